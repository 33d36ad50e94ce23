package events

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/bus"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/mutations"
	"github.com/crossroads-hub/crossroads/internal/population"
)

const (
	parent  = "85073003328" // a pensioner whose child the child-benefit fund pays for
	lonely  = "40021500272" // a pensioner without children
	newborn = "26050100125"
	missing = "11111111111" // not in the register
	broken  = "22222222222" // the register fails to read
)

var today = date.Of(2026, 6, 1)

// fakeBus stores what is published, or refuses it.
type fakeBus struct {
	published []bus.Msg
	fail      error
}

func (b *fakeBus) PublishAll(ctx context.Context, msgs []bus.Msg) (int, error) {
	if b.fail != nil {
		return 0, b.fail
	}
	b.published = append(b.published, msgs...)
	return len(msgs), nil
}

// fakeAudit keeps the records appended, or refuses them.
type fakeAudit struct {
	mu       sync.Mutex
	records  []audit.Record
	expected int
	fail     error
}

func (a *fakeAudit) Expect(n int) func() { a.expected += n; return func() {} }

func (a *fakeAudit) Append(ctx context.Context, r audit.Record) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return 0, a.fail
	}
	a.records = append(a.records, r)
	return int64(len(a.records)), nil
}

// register is a civil register of a few persons.
type register map[string]population.Person

func (r register) Person(ctx context.Context, number string) (population.Person, error) {
	if number == broken {
		return population.Person{}, fault.Unavailablef(errors.New("disk"), "the register does not answer")
	}
	p, ok := r[number]
	if !ok {
		return population.Person{}, fault.NotFoundf("no person %s", number)
	}
	return p, nil
}

// testRoute is a route step over a directory of three subscribers and a fake bus.
func testRoute(civilService string) (*route, *fakeBus, *fakeAudit) {
	x := directory.NewIndex()
	since := date.Of(2020, 1, 1)
	for _, g := range []directory.Integration{
		{Person: parent, Institution: "PENSION-FUND", Capacity: "001"},
		{Person: parent, Institution: "HEALTH-INSURER-1", Capacity: "000"},
		{Person: parent, Institution: "CHILD-BENEFIT-NORTH", Capacity: "011"},
		{Person: parent, Institution: "TAX-OFFICE", Capacity: "000"}, // authorization expired
		{Person: lonely, Institution: "PENSION-FUND", Capacity: "001"},
	} {
		g.Begin = since
		x.Add(g)
	}
	auth := func(id, inst string, caps []string, fields ...string) directory.Authorization {
		return directory.Authorization{ID: id, Institution: inst, Service: "civil-person", Fields: fields, Purpose: "p",
			Capacities: caps, ValidFrom: since, Decision: "d"}
	}
	tax := auth("A-9", "TAX-OFFICE", []string{"000"}, "given_name")
	tax.ValidTo = date.Of(2024, 12, 31)
	policy := exchange.NewPolicy([]directory.Authorization{
		auth("A-1", "PENSION-FUND", []string{"001"}, "given_name", "family_name", "death_date"),
		auth("A-2", "HEALTH-INSURER-1", []string{"000"}, "given_name", "death_date"),
		auth("A-3", "CHILD-BENEFIT-NORTH", []string{"011"}, "given_name", "birth_date", "mother"),
		tax,
	}, x)
	sub := func(inst string, events ...string) directory.Subscription {
		return directory.Subscription{ID: "sub-" + inst, Institution: inst, EventTypes: events, Mode: directory.ModePush, Endpoint: "http://x/" + inst}
	}
	subs := []directory.Subscription{sub("PENSION-FUND", "death", "address"), sub("HEALTH-INSURER-1", "death"),
		sub("CHILD-BENEFIT-NORTH", "birth"), sub("TAX-OFFICE", "death")}
	b, a := &fakeBus{}, &fakeAudit{}
	reg := register{
		parent:  {Number: parent, GivenName: "Ann", FamilyName: "Lee", DeathDate: today, Nationality: "BEL"},
		lonely:  {Number: lonely, GivenName: "Bob", FamilyName: "Ray"},
		newborn: {Number: newborn, GivenName: "Cy", FamilyName: "Lee", BirthDate: today, Mother: parent},
		broken:  {},
	}
	r := &route{persons: reg, audit: a, bus: b, log: slog.New(slog.DiscardHandler), out: newOutcomes(nil, nil, slog.New(slog.DiscardHandler)),
		service: func(builtin string) string {
			if builtin == "civil" {
				return civilService
			}
			return ""
		},
		decide: &mutations.Router{Files: x.Files, Subscriptions: func() []directory.Subscription { return subs },
			Policy: func() *exchange.Policy { return policy }, Today: func() date.Date { return today }}}
	return r, b, a
}

// event is a register's event as the relay publishes it.
func event(seq int64, typ, person string) []byte {
	b, _ := json.Marshal(population.Event{Seq: seq, Type: typ, Person: person, Date: today})
	return b
}

func remote(id, typ, person string) []byte {
	b, _ := json.Marshal(map[string]any{"remote": RemoteChange{Source: "FARM-REG", Service: "civil-person", ID: id, Type: typ,
		Person: person, Date: today, Record: map[string]any{"given_name": "Ann", "family_name": "Lee", "farm": "x"}}})
	return b
}

// TestRoute: the route step decides each mutation of a batch, records every decision,
// publishes the copies in order, each minimised and keyed, and says how many it did.
func TestRoute(t *testing.T) {
	tests := []struct {
		name    string
		service string // the civil register's service in the directory
		batch   [][]byte
		done    int
		err     bool
		keys    []string // the copies published, in order (a change's in the order of the person's files)
		denied  int      // decisions withheld
	}{
		{"a death reaches those with a file, authorized", "civil-person", [][]byte{event(7, "death", parent)}, 1, false,
			[]string{"civil:7/sub-HEALTH-INSURER-1", "civil:7/sub-PENSION-FUND"}, 1},
		{"a birth reaches the fund of a parent", "civil-person", [][]byte{event(8, "birth", newborn)}, 1, false,
			[]string{"civil:8/sub-CHILD-BENEFIT-NORTH"}, 0},
		{"a batch's copies in its order", "civil-person", [][]byte{event(9, "address", lonely), event(10, "death", parent)}, 2, false,
			[]string{"civil:9/sub-PENSION-FUND", "civil:10/sub-HEALTH-INSURER-1", "civil:10/sub-PENSION-FUND"}, 1},
		{"no service of the civil register in the directory: withheld from all", "", [][]byte{event(11, "death", parent)}, 1, false,
			nil, 3},
		{"a person the register does not hold: dropped", "civil-person", [][]byte{event(12, "death", missing)}, 1, false, nil, 0},
		{"not a mutation: dropped", "civil-person", [][]byte{[]byte("not json")}, 1, false, nil, 0},
		{"a remote change, under its service", "civil-person", [][]byte{remote("remote:FARM-REG:t/r/0", "death", parent)}, 1, false,
			[]string{"remote:FARM-REG:t/r/0/sub-HEALTH-INSURER-1", "remote:FARM-REG:t/r/0/sub-PENSION-FUND"}, 1},
		{"the register fails: those before are done", "civil-person", [][]byte{event(13, "address", lonely), event(14, "death", broken), event(15, "address", lonely)}, 1, true,
			[]string{"civil:13/sub-PENSION-FUND"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, b, a := testRoute(tt.service)
			done, err := r.all(context.Background(), tt.batch)
			if done != tt.done || (err != nil) != tt.err {
				t.Fatalf("all = %d, %v; want %d, error %v", done, err, tt.done, tt.err)
			}
			var keys []string
			for _, m := range b.published {
				keys = append(keys, m.ID)
				var d delivery
				if err := json.Unmarshal(m.Data, &d); err != nil || d.Key != m.ID || m.Subject != deliverySubject(d.Subscription, d.Person) {
					t.Errorf("copy %s on %s: %s (%v)", m.ID, m.Subject, m.Data, err)
				}
			}
			if !slices.Equal(keys, tt.keys) {
				t.Errorf("copies %v; want %v", keys, tt.keys)
			}
			denied := 0
			for _, rec := range a.records {
				if rec.Decision == "deny" {
					denied++
				}
			}
			if denied != tt.denied || len(a.records) != len(tt.keys)+tt.denied || a.expected != len(a.records) {
				t.Errorf("audit records %d (%d denied, %d announced); want %d (%d denied)", len(a.records), denied, a.expected,
					len(tt.keys)+tt.denied, tt.denied)
			}
			if got := r.out.routed.Load(); got != int64(len(tt.keys)) {
				t.Errorf("counted %d copies routed; want %d", got, len(tt.keys))
			}
		})
	}
}

// TestRouteMinimises: each copy carries only the fields of its institution's
// authorization.
func TestRouteMinimises(t *testing.T) {
	r, b, _ := testRoute("civil-person")
	if _, err := r.all(context.Background(), [][]byte{event(1, "death", parent)}); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"sub-PENSION-FUND": {"death_date", "family_name", "given_name"}, "sub-HEALTH-INSURER-1": {"death_date", "given_name"}}
	for _, m := range b.published {
		var d struct {
			Subscription string
			Record       map[string]any
		}
		if err := json.Unmarshal(m.Data, &d); err != nil {
			t.Fatal(err)
		}
		var fields []string
		for k := range d.Record {
			if !strings.HasPrefix(k, "@") && k != "person" {
				fields = append(fields, k)
			}
		}
		slices.Sort(fields)
		if !slices.Equal(fields, want[d.Subscription]) {
			t.Errorf("%s's copy holds %v; want %v", d.Subscription, fields, want[d.Subscription])
		}
	}
}

// TestRouteFailures: when the audit log or the bus refuses, nothing of the batch is
// done: no copy is published before its decision is recorded, and the batch is taken
// again whole.
func TestRouteFailures(t *testing.T) {
	tests := []struct {
		name                   string
		auditFails, publishErr error
	}{
		{"the audit log fails", errors.New("audit down"), nil},
		{"the bus fails", nil, errors.New("bus down")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, b, a := testRoute("civil-person")
			a.fail, b.fail = tt.auditFails, tt.publishErr
			done, err := r.all(context.Background(), [][]byte{event(1, "death", parent)})
			if done != 0 || err == nil {
				t.Fatalf("all = %d, %v; want 0 and an error", done, err)
			}
			if len(b.published) != 0 || r.out.changes.Load() != 0 {
				t.Errorf("published %d copies, counted %d changes; want none", len(b.published), r.out.changes.Load())
			}
			a.fail, b.fail = nil, nil
			if done, err := r.all(context.Background(), [][]byte{event(1, "death", parent)}); done != 1 || err != nil || len(b.published) != 2 {
				t.Errorf("again: %d, %v, %d copies; want 1, nil, 2", done, err, len(b.published))
			}
		})
	}
}
