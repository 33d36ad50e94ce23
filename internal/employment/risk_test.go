package employment

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

var riskToday = date.Of(2026, 7, 15)

func riskStart() RiskDeclaration {
	return RiskDeclaration{Risk: Incapacity, Phase: RiskStart, Day: date.Of(2026, 7, 10), Cause: "illness",
		Wages: &RiskWages{From: date.Of(2026, 7, 1), To: date.Of(2026, 7, 9), Wages: 100000, Days: 7, Hours: 53.2}}
}

// TestRiskCheck: each member of a social-risk declaration is checked, the one at fault
// named.
func TestRiskCheck(t *testing.T) {
	for _, c := range []struct {
		name  string
		edit  func(*RiskDeclaration)
		field string // "": accepted
	}{
		{"a start", func(*RiskDeclaration) {}, ""},
		{"unknown risk", func(d *RiskDeclaration) { d.Risk = "boredom" }, "risk"},
		{"unknown phase", func(d *RiskDeclaration) { d.Phase = "middle" }, "phase"},
		{"no day", func(d *RiskDeclaration) { d.Day = 0 }, "day"},
		{"day far ahead", func(d *RiskDeclaration) { d.Day = riskToday.AddDays(40) }, "day"},
		{"no cause", func(d *RiskDeclaration) { d.Cause = "" }, "cause"},
		{"unknown cause", func(d *RiskDeclaration) { d.Cause = "hangover" }, "cause"},
		{"a reason for an incapacity", func(d *RiskDeclaration) { d.Reason = "dismissal" }, "reason"},
		{"expected end before the day", func(d *RiskDeclaration) { d.ExpectedEnd = d.Day.AddDays(-1) }, "expected_end"},
		{"hours lost for an incapacity", func(d *RiskDeclaration) { d.HoursLost = 10 }, "hours_lost"},
		{"no wages at a start", func(d *RiskDeclaration) { d.Wages = nil }, "wages"},
		{"wages at an end", func(d *RiskDeclaration) { d.Phase, d.Case, d.Cause = RiskEnd, 1, "" }, "wages"},
		{"wages across quarters", func(d *RiskDeclaration) { d.Wages.From = date.Of(2026, 6, 30) }, "wages.to"},
		{"wages after the day", func(d *RiskDeclaration) { d.Wages.To = d.Day }, "wages.to"},
		{"negative wages", func(d *RiskDeclaration) { d.Wages.Wages = -1 }, "wages.wages"},
		{"too many days", func(d *RiskDeclaration) { d.Wages.Days = 10 }, "wages.days"},
		{"too many hours", func(d *RiskDeclaration) { d.Wages.Hours = 7*12 + 1 }, "wages.hours"},
		{"temporary unemployment", func(d *RiskDeclaration) { d.Risk, d.Cause, d.Reason, d.HoursLost = Unemployment, "", "temporary", 19 }, ""},
		{"a cause for an unemployment", func(d *RiskDeclaration) { d.Risk, d.Reason = Unemployment, "dismissal" }, "cause"},
		{"hours lost of a dismissal", func(d *RiskDeclaration) { d.Risk, d.Cause, d.Reason, d.HoursLost = Unemployment, "", "dismissal", 5 }, "hours_lost"},
	} {
		d := riskStart()
		c.edit(&d)
		err := d.check(riskToday)
		var field string
		if e, ok := err.(*fault.Error); ok {
			field = e.Field
		}
		if (c.field == "") != (err == nil) || field != c.field {
			t.Errorf("%s: check() = %v (field %q); want field %q", c.name, err, field, c.field)
		}
	}
}

// FuzzRiskDeclaration decodes anything as the HTTP layer does and checks it: never a
// panic, and a declaration that passes holds the rules.
func FuzzRiskDeclaration(f *testing.F) {
	b, _ := json.Marshal(riskStart())
	f.Add(b)
	f.Add([]byte(`{"risk":"unemployment","phase":"start","day":"2026-07-10","reason":"temporary","hours_lost":1e308,"wages":{"from":"2026-07-01","to":"2026-07-09","days":-1}}`))
	f.Add([]byte(`{"risk":"incapacity","phase":"end","case":-1,"day":"9999-12-31"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var d RiskDeclaration
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if dec.Decode(&d) != nil {
			return
		}
		if err := d.check(riskToday); err != nil {
			if fault.KindOf(err) != fault.Invalid {
				t.Fatalf("check(%s) = %v; want invalid", body, err)
			}
			return
		}
		if _, ok := Risks[d.Risk]; !ok || !slices.Contains([]string{RiskStart, RiskRecurrence, RiskContinuation, RiskEnd}, d.Phase) || d.Day.IsZero() {
			t.Fatalf("check passed %s", body)
		}
		if w := d.Wages; w != nil && (w.Wages < 0 || w.Bonus < 0 || w.Days < 0 || w.Hours < 0 || w.To >= d.Day) {
			t.Fatalf("check passed wages %+v", w)
		}
		if (d.Phase == RiskStart || d.Phase == RiskRecurrence) && d.Wages == nil {
			t.Fatalf("check passed an opening without wages: %s", body)
		}
	})
}
