package exchange

import (
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
)

// TestEnginePurposeServesTheEngineOnly: an authorization of the rights engine (purpose
// right:<id>, no capacity) must not open the source to the institution's other questions.
func TestEnginePurposeServesTheEngineOnly(t *testing.T) {
	a := directory.Authorization{ID: "A1", Institution: "PF", Service: "civil-person", Fields: []string{"birth_date"},
		Purpose: "right:income-guarantee-elderly", ValidFrom: date.Of(2020, 1, 1)}
	p := NewPolicy([]directory.Authorization{a}, directory.NewIndex())
	day := date.Of(2026, 12, 7)
	if d := p.Decide(Question{Institution: "PF", Service: "civil-person", Today: day}); d.Permit {
		t.Errorf("a question without purpose used the engine's authorization: %+v", d)
	}
	if d := p.Decide(Question{Institution: "PF", Service: "civil-person", Purpose: "Award of pensions", Today: day}); d.Permit {
		t.Errorf("a question for another purpose used the engine's authorization: %+v", d)
	}
	if d := p.Decide(Question{Institution: "PF", Service: "civil-person", Purpose: "right:income-guarantee-elderly", Today: day}); !d.Permit {
		t.Errorf("the engine's own question was refused: %+v", d)
	}
	if !IsEnginePurpose("RIGHT:x") || IsEnginePurpose("rights") {
		t.Errorf("IsEnginePurpose is wrong")
	}
}
