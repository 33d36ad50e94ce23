package events

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/crossroads-hub/crossroads/internal/civil"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/derived"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/mutations"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// TestPushedAsLeft: for random sequences of changes to a person (moves, households,
// marriages, divorces, incomes declared to the social registry, a death), recorded in a
// real register before any is routed, each copy pushed carries the person as that change
// left it: the state replayed from the register's history up to the change, not the
// state the later changes left.
func TestPushedAsLeft(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "civil.db"), sqlstore.Civil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store := db.Population()
	if err := store.PutPlaces(ctx, []population.Place{{Code: "R1", Name: "North", Kind: "region"},
		{Code: "M1", Name: "Hilltop", Kind: "municipality", Parent: "R1"}, {Code: "M2", Name: "Riverside", Kind: "municipality", Parent: "R1"}}); err != nil {
		t.Fatal(err)
	}
	social := &derived.Source{Kind: derived.Social, Store: store}
	today := date.Of(2030, 1, 1)
	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		n++
		var ps []population.Person             // the person changed, then two possible spouses
		born := date.Of(1950, 1, 1).AddDays(n) // new persons for each sequence
		for k := range 3 {
			num, err := ident.MakePerson(born.Year(), born.Month(), born.Day(), k+1, ident.Register)
			if err != nil {
				rt.Fatal(err)
			}
			ps = append(ps, population.Person{Number: num.String(), BRN: "BRN-" + num.String(), GivenName: "P" + strconv.Itoa(k), FamilyName: "Lee",
				Sex: "female", BirthDate: born, MaritalStatus: population.Single, Household: "H0", Nationality: "XCR",
				Address: population.Address{Street: "Start", HouseNumber: "1", PostalCode: "1000", Municipality: "M1", Region: "R1"}})
		}
		if err := store.PutPersons(ctx, ps); err != nil {
			rt.Fatal(err)
		}
		subject := ps[0]
		last, err := store.LastEventSeq(ctx)
		if err != nil {
			rt.Fatal(err)
		}
		day := date.Of(2020, 1, 1)
		for i, kind := range rapid.SliceOfN(rapid.SampledFrom([]string{"address", "address", "household", "marriage", "divorce", "income", "income", "death"}), 1, 12).Draw(rt, "changes") {
			day = day.AddDays(rapid.IntRange(0, 30).Draw(rt, "days"))
			c := civil.Change{Type: kind, Person: subject.Number, Date: day}
			switch kind {
			case "address":
				c.Address = &population.Address{Street: "Street " + strconv.Itoa(i+1), HouseNumber: strconv.Itoa(rapid.IntRange(1, 9).Draw(rt, "house")),
					PostalCode: "1000", Municipality: rapid.SampledFrom([]string{"M1", "M2"}).Draw(rt, "municipality"), Region: "R1"}
			case "household":
				c.Household = rapid.SampledFrom([]string{"H0", "H1", "H2"}).Draw(rt, "household")
			case "marriage", "divorce":
				c.Spouse = ps[rapid.IntRange(1, 2).Draw(rt, "spouse")].Number
			}
			if kind == "income" {
				income := rapid.IntRange(0, 5000).Draw(rt, "income")
				_, err = social.RecordChange(ctx, derived.Change{Type: derived.EventIncome, Person: subject.Number, Date: day,
					Facts: derived.Facts{MonthlyIncome: &income}}, today)
			} else {
				_, err = civil.RecordChange(ctx, store, c, today)
			}
			if err != nil && fault.KindOf(err) != fault.Conflict { // a change the register refuses is not in its history
				rt.Fatalf("%s: %v", kind, err)
			}
		}
		evs, err := store.EventsAfter(ctx, last, 1000)
		if err != nil {
			rt.Fatal(err)
		}
		r, b := routeTo(store, social, subject.Number)
		var data [][]byte
		for _, m := range mutationMsgs(evs) {
			data = append(data, m.Data)
		}
		if done, err := r.all(ctx, data); done != len(data) || err != nil {
			rt.Fatalf("routed %d of %d changes: %v", done, len(data), err)
		}
		want := replay(rt, store, subject)
		if len(b.published) != len(want) {
			rt.Fatalf("%d copies pushed; want one for each of the %d changes of the person", len(b.published), len(want))
		}
		for _, m := range b.published {
			var d delivery
			if err := json.Unmarshal(m.Data, &d); err != nil {
				rt.Fatal(err)
			}
			seq, _ := strconv.ParseInt(strings.TrimPrefix(strings.Split(d.Key, "/")[0], "civil:"), 10, 64)
			w, ok := want[seq]
			if !ok {
				rt.Fatalf("a copy %s of a change not in the person's history", d.Key)
			}
			if got := pushedState(rt, d); got != w.state(d.Registry) {
				rt.Fatalf("copy %s (%s) carries %+v; want %+v, as the register's history stood after it", d.Key, d.Type, got, w.state(d.Registry))
			}
		}
	})
}

// asLeft is what a change left of the person: its record and its declared income.
type asLeft struct {
	p      population.Person
	income int
}

// seen is what a copy shows of the person, in the civil register or the social registry.
type seen struct {
	Address                             population.Address
	Household, MaritalStatus, Spouse    string
	DeathDate                           date.Date
	SocialHousehold, SocialMunicipality string
	Income                              int
}

func (a asLeft) state(registry string) seen {
	if registry == derived.Social {
		return seen{SocialHousehold: a.p.Household, SocialMunicipality: a.p.Address.Municipality, Income: a.income}
	}
	return seen{Address: a.p.Address, Household: a.p.Household, MaritalStatus: a.p.MaritalStatus, Spouse: a.p.Spouse, DeathDate: a.p.DeathDate}
}

// pushedState reads what a copy shows of the person.
func pushedState(rt *rapid.T, d delivery) seen {
	if d.Registry == derived.Social {
		var rec struct {
			Household struct {
				ID           string `json:"id"`
				Municipality string `json:"municipality"`
				Income       int    `json:"monthly_income"`
			} `json:"household"`
		}
		if err := json.Unmarshal(d.Record, &rec); err != nil {
			rt.Fatal(err)
		}
		return seen{SocialHousehold: rec.Household.ID, SocialMunicipality: rec.Household.Municipality, Income: rec.Household.Income}
	}
	var p population.Person
	if err := json.Unmarshal(d.Record, &p); err != nil {
		rt.Fatal(err)
	}
	return asLeft{p: p}.state("")
}

// replay folds the register's history of p (its events, in seq order) from p as it was
// put, and returns the state after each event, by seq.
func replay(rt *rapid.T, store population.Store, p population.Person) map[int64]asLeft {
	evs, err := store.Events(context.Background(), p.Number)
	if err != nil {
		rt.Fatal(err)
	}
	out := map[int64]asLeft{}
	s := asLeft{p: p}
	for _, ev := range evs {
		var data struct {
			population.Address
			Household string `json:"household"`
			Spouse    string `json:"spouse"`
			Income    int    `json:"monthly_income"`
		}
		if err := json.Unmarshal(ev.Data, &data); err != nil && len(ev.Data) > 0 {
			rt.Fatal(err)
		}
		switch ev.Type {
		case population.EventAddress:
			s.p.Address = data.Address
		case population.EventHousehold:
			s.p.Household = data.Household
		case population.EventMarriage:
			s.p.MaritalStatus, s.p.Spouse = population.Married, data.Spouse
		case population.EventDivorce:
			s.p.MaritalStatus, s.p.Spouse = population.Divorced, ""
		case population.EventDeath:
			s.p.DeathDate = ev.Date
		case derived.EventIncome:
			s.income = data.Income
		default:
			rt.Fatalf("an event %s the replay does not know", ev.Type)
		}
		out[ev.Seq] = s
	}
	return out
}

// routeTo is a route step over the register and the social registry, to two subscribers
// with a file on person: one hears of every civil change, the other of declared incomes.
func routeTo(store population.Store, social *derived.Source, person string) (*route, *fakeBus) {
	since := date.Of(2000, 1, 1)
	x := directory.NewIndex()
	x.Add(directory.Integration{Person: person, Institution: "CIVIL-WATCH", Capacity: "000", Begin: since})
	x.Add(directory.Integration{Person: person, Institution: "SOCIAL-WATCH", Capacity: "000", Begin: since})
	policy := exchange.NewPolicy([]directory.Authorization{
		{ID: "A-1", Institution: "CIVIL-WATCH", Service: "civil-person", Purpose: "p", Capacities: []string{"000"}, ValidFrom: since, Decision: "d",
			Fields: []string{"address", "household", "marital_status", "spouse", "death_date"}},
		{ID: "A-2", Institution: "SOCIAL-WATCH", Service: "social-member", Purpose: "p", Capacities: []string{"000"}, ValidFrom: since, Decision: "d",
			Fields: []string{"household.id", "household.municipality", "household.monthly_income"}},
	}, x)
	subs := []directory.Subscription{
		{ID: "sub-civil", Institution: "CIVIL-WATCH", Mode: directory.ModePush, Endpoint: "http://x/civil",
			EventTypes: []string{"address", "household", "marriage", "divorce", "death"}},
		{ID: "sub-social", Institution: "SOCIAL-WATCH", Mode: directory.ModePush, Endpoint: "http://x/social", EventTypes: []string{derived.EventIncome}},
	}
	b := &fakeBus{}
	log := slog.New(slog.DiscardHandler)
	return &route{persons: store, registries: map[string]*derived.Source{derived.Social: social}, audit: &fakeAudit{}, bus: b,
		log: log, out: newOutcomes(nil, nil, log),
		service: func(builtin string) string {
			return map[string]string{"civil": "civil-person", "social": "social-member"}[builtin]
		},
		decide: &mutations.Router{Files: x.Files, Subscriptions: func() []directory.Subscription { return subs },
			Policy: func() *exchange.Policy { return policy }, Today: func() date.Date { return date.Of(2030, 1, 1) }}}, b
}
