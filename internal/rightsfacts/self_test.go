package rightsfacts

import (
	"context"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/rights"
	"github.com/crossroads-hub/crossroads/internal/rights/rightstest"
)

// TestSelfRefusesBeforeReading: a person's own explanation is refused, before any fact
// is read, for what is no person number and for a day after today (the sealed path is
// tested through the portal, internal/portal TestRightExplained).
func TestSelfRefusesBeforeReading(t *testing.T) {
	rec := &entries{}
	now := func() time.Time { return time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC) }
	x := exchange.New(exchange.NewPolicy(nil, directory.NewIndex()), nil, rec, now)
	e := rights.NewEngine(rights.DemoCatalogue(), &rightstest.Memory{}, nil)
	s := &Self{Engine: e, Exchange: x, Client: "test", Now: now} // no registers: nothing may be read
	for _, tc := range []struct {
		person string
		day    date.Date
		field  string
	}{
		{"not-a-number", 0, "person"},
		{"", 0, "person"},
		{"' OR 1=1 --", 0, "person"},
		{validPerson(t), date.Of(2026, 12, 8), "date"},
	} {
		_, err := s.Explain(context.Background(), tc.person, tc.day)
		if fe, ok := err.(*fault.Error); !ok || fe.Field != tc.field {
			t.Errorf("Explain(%q, %s) = %#v; want the field %s named", tc.person, tc.day, err, tc.field)
		}
	}
	if len(rec.all) != 0 {
		t.Errorf("%d records sealed for refused questions; want none (nothing was read)", len(rec.all))
	}
}

func validPerson(t *testing.T) string {
	t.Helper()
	p, err := ident.MakePerson(1950, 3, 14, 21, ident.Register)
	if err != nil {
		t.Fatal(err)
	}
	return p.String()
}
