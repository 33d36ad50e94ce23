package benefits_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/benefits"
	"github.com/crossroads-hub/crossroads/internal/benefits/benefitstest"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/rights"
)

// sealed is an audit log in memory: what Service.Seal was given.
type sealed struct {
	asks []exchange.Ask
	ans  []exchange.Answer
}

func (s *sealed) seal(ctx context.Context, ask exchange.Ask, ans exchange.Answer, _ []byte) (int64, error) {
	s.asks, s.ans = append(s.asks, ask), append(s.ans, ans)
	return int64(len(s.ans)), nil
}

var (
	holder, other = benefitstest.Person(1), benefitstest.Person(2)
	granted       = date.Of(2026, 11, 1) // holder's decision takes effect
	energyApp     = exchange.Caller{ClientID: "social-app", Institution: "SOCIAL-REGISTRY"}
)

func service(t *testing.T) (*benefits.Service, *sealed) {
	log := &sealed{}
	return &benefits.Service{Store: &benefitstest.Memory{}, Seal: log.seal, Now: func() time.Time { return time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC) },
		Grantor: func(right string) (string, bool) {
			switch right {
			case "social-energy-tariff":
				return "SOCIAL-REGISTRY", true
			case "increased-reimbursement":
				return "HEALTH-INSURER-1", true
			}
			return "", false
		},
		Decision: func(ctx context.Context, person, right string, day date.Date) (*rights.Decision, error) {
			if person != holder || right != "social-energy-tariff" || day < granted {
				return nil, nil
			}
			return &rights.Decision{Person: person, Right: right, Result: rights.Granted, Effective: granted}, nil
		}}, log
}

func tariff(ref string, from date.Date) benefits.Input {
	return benefits.Input{Person: holder, Right: "social-energy-tariff", Reference: ref, Benefit: "social tariff applied", From: from}
}

// Every refusal names its field, has its status, and is sealed naming the person.
func TestRefusals(t *testing.T) {
	s, log := service(t)
	ctx := context.Background()
	health := exchange.Caller{ClientID: "insurer-app", Institution: "HEALTH-INSURER-1"}
	withRight := func(in benefits.Input, right string) benefits.Input { in.Right = right; return in }
	forPerson := func(in benefits.Input, p string) benefits.Input { in.Person = p; return in }
	for _, c := range []struct {
		name   string
		by     exchange.Caller
		in     benefits.Input
		status int
		field  string
	}{
		{"another institution's right", health, tariff("H-1", granted), http.StatusForbidden, "right"},
		{"a right it grants, for the tariff's holder", health, withRight(tariff("H-2", granted), "increased-reimbursement"), http.StatusUnprocessableEntity, "from"},
		{"a person without the right", energyApp, forPerson(tariff("E-1", granted), other), http.StatusUnprocessableEntity, "from"},
		{"a day before the decision", energyApp, tariff("E-2", granted.AddDays(-1)), http.StatusUnprocessableEntity, "from"},
		{"no such right", energyApp, withRight(tariff("E-3", granted), "free-beer"), http.StatusBadRequest, "right"},
		{"a bad person number", energyApp, forPerson(tariff("E-4", granted), "12345"), http.StatusBadRequest, "person"},
		{"the person's own session", exchange.Caller{ClientID: "crossroads-portal", Institution: exchange.SelfInstitution}, tariff("S-1", granted), http.StatusForbidden, ""},
		{"a start a century ahead", energyApp, tariff("E-5", date.Of(2126, 12, 8)), http.StatusBadRequest, "from"},
		{"a start more than a month ahead", energyApp, tariff("E-6", date.Of(2026, 12, 8).AddDays(benefits.MaxAhead+1)), http.StatusBadRequest, "from"},
		{"an end of nothing", energyApp, benefits.Input{Action: benefits.Ended, Reference: "none", Until: granted}, http.StatusNotFound, "reference"},
	} {
		n := len(log.ans)
		_, err := s.Submit(ctx, c.by, c.in, []byte("{}"))
		var fe *fault.Error
		if err == nil || benefits.StatusOf(err) != c.status || (c.field != "" && (!asFault(err, &fe) || fe.Field != c.field)) {
			t.Errorf("%s: %v (status %d); want %d naming %q", c.name, err, benefits.StatusOf(err), c.status, c.field)
			continue
		}
		if len(log.ans) != n+1 {
			t.Errorf("%s: not sealed", c.name)
			continue
		}
		a := log.ans[n]
		if a.Decision.Permit || a.Err == nil || a.Status != c.status {
			t.Errorf("%s: sealed as %+v; want a refusal with status %d", c.name, a, c.status)
		}
		if c.in.Person != "" && c.in.Person != "12345" && (len(a.Persons) != 1 || a.Persons[0] != c.in.Person) {
			t.Errorf("%s: the record names %v; want the person", c.name, a.Persons)
		}
	}
	if mine, _ := s.Store.ByPerson(ctx, holder); len(mine) != 0 {
		t.Errorf("refusals stored %+v", mine)
	}
}

func asFault(err error, fe **fault.Error) bool {
	e, ok := err.(*fault.Error)
	*fe = e
	return ok
}

// A report is stored once by reference; corrected and ended with its history kept.
func TestReportCorrectEnd(t *testing.T) {
	s, log := service(t)
	ctx := context.Background()
	first, err := s.Submit(ctx, energyApp, tariff("R-1", granted), []byte("a"))
	if err != nil || first.Report.Version != 1 || first.Again || first.Audit != 1 {
		t.Fatalf("report: %+v, %v", first, err)
	}
	again, err := s.Submit(ctx, energyApp, tariff("R-1", granted), []byte("a"))
	if err != nil || !again.Again || again.Report.ID != first.Report.ID {
		t.Fatalf("the same report again: %+v, %v; want the first, again", again, err)
	}
	if _, err := s.Submit(ctx, energyApp, tariff("R-1", granted.AddDays(3)), nil); fault.KindOf(err) != fault.Conflict {
		t.Errorf("another report under R-1: %v; want a conflict", err)
	}
	fix := tariff("R-1", granted.AddDays(3))
	fix.Action = benefits.Corrected
	if r, err := s.Submit(ctx, energyApp, fix, nil); err != nil || r.Report.Version != 2 || r.Report.From != granted.AddDays(3) {
		t.Fatalf("correct: %+v, %v", r, err)
	}
	moved := fix
	moved.Person = other
	if _, err := s.Submit(ctx, energyApp, moved, nil); fault.KindOf(err) != fault.Invalid {
		t.Errorf("a correction to another person: %v; want invalid", err)
	}
	end := benefits.Input{Action: benefits.Ended, Reference: "R-1", Until: granted.AddDays(1)}
	if _, err := s.Submit(ctx, energyApp, end, nil); fault.KindOf(err) != fault.Invalid {
		t.Errorf("an end before the start: %v; want invalid", err)
	}
	end.Until = date.Of(2027, 3, 31)
	r, err := s.Submit(ctx, energyApp, end, nil)
	if err != nil || r.Report.Version != 3 || r.Report.Person != holder || r.Report.Until != end.Until {
		t.Fatalf("end: %+v, %v", r, err)
	}
	if _, err := s.Submit(ctx, exchange.Caller{ClientID: "x", Institution: "HEALTH-INSURER-1"}, end, nil); fault.KindOf(err) != fault.NotFound {
		t.Errorf("another institution ends R-1: %v; want not found (its references only)", err)
	}
	hist, _ := s.Store.ByPerson(ctx, holder)
	if len(hist) != 3 {
		t.Fatalf("history: %d versions; want 3", len(hist))
	}
	n := len(log.ans)
	cur, err := s.Mine(ctx, holder, "crossroads-portal")
	if err != nil || len(cur) != 1 || cur[0].Version != 3 || !cur[0].Holds(date.Of(2027, 1, 1)) || cur[0].Holds(date.Of(2027, 4, 1)) {
		t.Fatalf("Mine = %+v, %v", cur, err)
	}
	if len(log.ans) != n+1 || log.asks[n].Caller.Institution != exchange.SelfInstitution || log.ans[n].Persons[0] != holder {
		t.Errorf("the person's reading was not sealed under SELF naming them")
	}
	for i, a := range log.asks {
		if !strings.HasPrefix(a.Purpose, "benefit.") && a.Caller.Institution != exchange.SelfInstitution {
			t.Errorf("record %d: purpose %q", i, a.Purpose)
		}
	}
}

// A benefit may start up to MaxAhead days after today (from the first of next month),
// and a correction cannot move it further.
func TestStartAhead(t *testing.T) {
	s, _ := service(t)
	ctx := context.Background()
	ahead := date.Of(2026, 12, 8).AddDays(benefits.MaxAhead)
	if _, err := s.Submit(ctx, energyApp, tariff("A-1", ahead), []byte("{}")); err != nil {
		t.Fatalf("a start %d days ahead: %v", benefits.MaxAhead, err)
	}
	in := tariff("A-1", ahead.AddDays(1))
	in.Action = benefits.Corrected
	var fe *fault.Error
	if _, err := s.Submit(ctx, energyApp, in, []byte("{}")); !asFault(err, &fe) || fe.Field != "from" {
		t.Errorf("a correction to %s: %v; want a refusal naming from", in.From, err)
	}
}
