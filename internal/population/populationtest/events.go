package populationtest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/population"
)

func runEvents(t *testing.T, newStore func(t *testing.T) population.Store) {
	ctx := context.Background()
	s := newStore(t)
	a, b := sample(1).Number, sample(2).Number
	evs := []population.Event{
		{Type: population.EventBirth, Person: a, Date: date.Of(1951, 2, 2)},
		{Type: population.EventBirth, Person: b, Date: date.Of(1952, 3, 3)},
		{Type: population.EventMarriage, Person: a, Date: date.Of(1980, 5, 5), Data: json.RawMessage(`{"spouse":"` + b + `"}`)},
	}
	if err := s.PutEvents(ctx, evs); err != nil {
		t.Fatalf("PutEvents: %v", err)
	}
	later := []population.Event{{Type: population.EventAddress, Person: a, Date: date.Of(1990, 1, 1), Data: json.RawMessage(`{"municipality":"M2"}`)}}
	if err := s.PutEvents(ctx, later); err != nil {
		t.Fatalf("PutEvents: %v", err)
	}
	got, err := s.Events(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	want := []population.Event{evs[0], evs[2], later[0]}
	if len(got) != len(want) {
		t.Fatalf("Events(%s) = %+v; want %d events", a, got, len(want))
	}
	for i, ev := range got {
		w := want[i]
		if ev.Type != w.Type || ev.Person != a || ev.Date != w.Date || !sameJSON(ev.Data, w.Data) || ev.RecordedAt.IsZero() {
			t.Errorf("Events(%s)[%d] = %+v; want %+v", a, i, ev, w)
		}
		if i > 0 && ev.Seq <= got[i-1].Seq {
			t.Errorf("Events(%s)[%d].Seq = %d, not after %d", a, i, ev.Seq, got[i-1].Seq)
		}
	}
	if got, err := s.Events(ctx, sample(3).Number); err != nil || len(got) != 0 {
		t.Errorf("Events(no events) = %+v, %v; want none", got, err)
	}
	// Several persons: all their events, in seq order, each naming its person.
	both, err := s.Events(ctx, b, sample(3).Number, a)
	if err != nil || len(both) != 4 {
		t.Fatalf("Events(b, none, a) = %+v, %v; want 4 events", both, err)
	}
	for i, ev := range both {
		if w := []string{a, b, a, a}[i]; ev.Person != w || (i > 0 && ev.Seq <= both[i-1].Seq) {
			t.Errorf("Events(b, none, a)[%d] = %+v; want person %s, in seq order", i, ev, w)
		}
	}
	if _, err := s.Events(ctx); fault.KindOf(err) != fault.Invalid {
		t.Errorf("Events() = %v; want an Invalid fault", err)
	}
	// The outbox: every person's events in seq order, from a point on, a page at a time.
	var log []population.Event
	for after := int64(0); ; {
		page, err := s.EventsAfter(ctx, after, 2)
		if err != nil {
			t.Fatalf("EventsAfter(%d): %v", after, err)
		}
		log = append(log, page...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1].Seq
	}
	if len(log) != 4 || log[0].Person != a || log[1].Person != b || log[3].Type != population.EventAddress || !sameJSON(log[3].Data, later[0].Data) {
		t.Errorf("EventsAfter pages = %+v; want the four events in order", log)
	}
	for i := 1; i < len(log); i++ {
		if log[i].Seq <= log[i-1].Seq {
			t.Errorf("EventsAfter: seq %d after %d", log[i].Seq, log[i-1].Seq)
		}
	}
	if rest, err := s.EventsAfter(ctx, log[len(log)-1].Seq, 10); err != nil || len(rest) != 0 {
		t.Errorf("EventsAfter(last) = %+v, %v; want none", rest, err)
	}
	if n, err := s.LastEventSeq(ctx); err != nil || n != log[len(log)-1].Seq {
		t.Errorf("LastEventSeq = %d, %v; want %d", n, err, log[len(log)-1].Seq)
	}
	runExplicitSeq(t, s, got[len(got)-1].Seq)
	var fe *fault.Error
	if _, err := s.Events(ctx, "x"); !errors.As(err, &fe) || fe.Kind != fault.Invalid || fe.Field == "" {
		t.Errorf("Events(x) error %v; want invalid person", err)
	}
}

func runRecord(t *testing.T, newStore func(t *testing.T) population.Store) {
	ctx := context.Background()
	s := newStore(t)
	alive := sample(1)
	mustPut(t, s, alive)
	death := population.Event{Type: population.EventDeath, Person: alive.Number, Date: date.Of(2024, 2, 29)}
	stored, err := s.Record(ctx, death, func(p *population.Person) error {
		if p.BRN != alive.BRN {
			return errors.New("apply was not given the stored person")
		}
		p.DeathDate = death.Date
		return nil
	})
	if err != nil || stored.Seq == 0 || stored.RecordedAt.IsZero() || stored.Type != death.Type || stored.Person != alive.Number {
		t.Fatalf("Record(death) = %+v, %v", stored, err)
	}
	if p, _ := s.Person(ctx, alive.Number); p.DeathDate != death.Date {
		t.Errorf("after Record(death), death date %v; want %v", p.DeathDate, death.Date)
	}
	refused := errors.New("refused")
	move := population.Event{Type: population.EventAddress, Person: alive.Number, Date: date.Of(2024, 3, 1)}
	_, err = s.Record(ctx, move, func(p *population.Person) error { p.Address.Municipality = "M9"; return refused })
	if !errors.Is(err, refused) {
		t.Errorf("Record with a failing apply: %v; want its error", err)
	}
	if p, _ := s.Person(ctx, alive.Number); p.Address.Municipality != alive.Address.Municipality {
		t.Errorf("a failed Record changed the person: %+v", p.Address)
	}
	_, err = s.Record(ctx, population.Event{Type: population.EventDeath, Person: sample(2).Number, Date: date.Of(2024, 1, 1)},
		func(*population.Person) error { return nil })
	wantKind(t, "Record(death of an unknown person)", err, fault.NotFound)

	baby := sample(50)
	birth := population.Event{Type: population.EventBirth, Person: baby.Number, Date: baby.BirthDate}
	born, err := s.Record(ctx, birth, func(p *population.Person) error { *p = baby; return nil })
	if err != nil || born.Seq <= stored.Seq {
		t.Fatalf("Record(birth) = %+v, %v; want a later seq than %d", born, err, stored.Seq)
	}
	if p, err := s.Person(ctx, baby.Number); err != nil || !samePerson(p, baby) {
		t.Errorf("after Record(birth), Person = %+v, %v; want %+v", p, err, baby)
	}
	evs, _ := s.Events(ctx, alive.Number)
	if len(evs) != 1 || evs[0].Seq != stored.Seq {
		t.Errorf("Events after one recorded and one failed event = %+v", evs)
	}

	// A couple: both persons changed with one event, or neither.
	a, b := sample(60), sample(61)
	mustPut(t, s, a, b)
	marriage := population.Event{Type: population.EventMarriage, Person: a.Number, Date: date.Of(2024, 6, 1), Data: json.RawMessage(`{"spouse":"` + b.Number + `"}`)}
	wed, err := s.RecordCouple(ctx, marriage, b.Number, func(p, o *population.Person) error {
		if p.BRN != a.BRN || o.BRN != b.BRN {
			return errors.New("apply was not given the stored persons")
		}
		p.MaritalStatus, p.Spouse, o.MaritalStatus, o.Spouse = population.Married, o.Number, population.Married, p.Number
		return nil
	})
	if err != nil || wed.Seq <= born.Seq || wed.Person != a.Number {
		t.Fatalf("RecordCouple(marriage) = %+v, %v", wed, err)
	}
	pa, _ := s.Person(ctx, a.Number)
	pb, _ := s.Person(ctx, b.Number)
	if pa.Spouse != b.Number || pb.Spouse != a.Number || pb.MaritalStatus != population.Married {
		t.Errorf("after RecordCouple, %+v and %+v", pa, pb)
	}
	_, err = s.RecordCouple(ctx, population.Event{Type: population.EventDivorce, Person: a.Number, Date: date.Of(2025, 1, 1)}, b.Number,
		func(p, o *population.Person) error { p.Spouse, o.Spouse = "", ""; return refused })
	if pb, _ := s.Person(ctx, b.Number); !errors.Is(err, refused) || pb.Spouse != a.Number {
		t.Errorf("a failed RecordCouple: %v, and %+v; want its error and nothing changed", err, pb)
	}
	_, err = s.RecordCouple(ctx, marriage, sample(62).Number, func(p, o *population.Person) error { return nil })
	wantKind(t, "RecordCouple(with an unknown person)", err, fault.NotFound)
	if evs, _ := s.Events(ctx, a.Number, b.Number); len(evs) != 1 || evs[0].Seq != wed.Seq {
		t.Errorf("Events of the couple = %+v; want the marriage only", evs)
	}
	runAfter(t, s, wed.Seq-1, pa)
}

// runAfter: the outbox gives each event recorded with its change with the person as
// that change left it, not as later changes left it; Record returns it without.
func runAfter(t *testing.T, s population.Store, before int64, married population.Person) {
	ctx := context.Background()
	mover := sample(70)
	mustPut(t, s, mover)
	var want []population.Person
	for _, street := range []string{"Street 1", "Street 2", "Street 3"} {
		ev, err := s.Record(ctx, population.Event{Type: population.EventAddress, Person: mover.Number, Date: date.Of(2024, 7, 1)},
			func(p *population.Person) error { p.Address.Street = street; return nil })
		if err != nil || ev.After != nil {
			t.Fatalf("Record(move to %s) = %+v, %v; want the event without the person", street, ev, err)
		}
		mover.Address.Street = street
		want = append(want, mover)
	}
	log, err := s.EventsAfter(ctx, before, 10)
	if err != nil || len(log) != 4 {
		t.Fatalf("EventsAfter(%d) = %+v, %v; want the marriage and three moves", before, log, err)
	}
	if log[0].After == nil || !samePerson(*log[0].After, married) {
		t.Errorf("the marriage's person after it: %+v; want %+v", log[0].After, married)
	}
	for i, ev := range log[1:] {
		if ev.After == nil || !samePerson(*ev.After, want[i]) {
			t.Errorf("move %d: the person after it %+v; want %+v", i+1, ev.After, want[i])
		}
	}
	if evs, _ := s.Events(ctx, mover.Number); len(evs) != 3 || evs[0].After != nil {
		t.Errorf("Events(%s) = %+v; want three events, without the person (only the outbox reads it)", mover.Number, evs)
	}
}

func runPlaces(t *testing.T, newStore func(t *testing.T) population.Store) {
	ctx := context.Background()
	s := newStore(t)
	places := []population.Place{
		{Code: "R1", Name: "North", Kind: "region"},
		{Code: "M2", Name: "Riverside", Kind: "municipality", Parent: "R1"},
		{Code: "M1", Name: "Hilltop", Kind: "municipality", Parent: "R1"},
	}
	if err := s.PutPlaces(ctx, places); err != nil {
		t.Fatal(err)
	}
	renamed := population.Place{Code: "M2", Name: "Riverside-on-Sea", Kind: "municipality", Parent: "R1"}
	if err := s.PutPlaces(ctx, []population.Place{renamed}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Places(ctx)
	want := []population.Place{places[2], renamed, places[0]}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("Places() = %+v, %v; want %+v", got, err, want)
	}
}

// runExplicitSeq loads an event with its own Seq, as a restore would, and checks that
// the store numbers the next one after it.
func runExplicitSeq(t *testing.T, s population.Store, last int64) {
	ctx := context.Background()
	p := sample(4).Number
	restored := population.Event{Seq: last + 100, Type: population.EventBirth, Person: p, Date: date.Of(1954, 5, 5)}
	if err := s.PutEvents(ctx, []population.Event{restored}); err != nil {
		t.Fatalf("PutEvents(explicit seq): %v", err)
	}
	next := population.Event{Type: population.EventDeath, Person: p, Date: date.Of(2020, 1, 1)}
	if err := s.PutEvents(ctx, []population.Event{next}); err != nil {
		t.Fatalf("PutEvents after an explicit seq: %v", err)
	}
	got, err := s.Events(ctx, p)
	if err != nil || len(got) != 2 || got[0].Seq != restored.Seq || got[1].Seq <= restored.Seq {
		t.Errorf("Events(%s) = %+v, %v; want seq %d then a later one", p, got, err, restored.Seq)
	}
}
