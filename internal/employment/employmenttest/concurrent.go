package employmenttest

import (
	"context"
	"sync"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// testConcurrent: hires declared at once (a store may commit them together) are each
// recorded once with their own relation and event, and a refused one among them (a
// deceased worker: refused inside the store's transaction) leaves nothing and takes
// nothing from the others; the same hire sent several times at once is taken once.
func testConcurrent(t *testing.T, st Stores) {
	ctx := context.Background()
	const n = 40
	src := setup(t, st, n+1)
	type outcome struct {
		d   employment.Declaration
		err error
	}
	out := make([]outcome, n+1)
	var wg sync.WaitGroup
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := src.Declare(ctx, AcmeInst, hire(Person(i), Acme, date.Of(2026, 8, 1)))
			out[i] = outcome{d, err}
		}()
	}
	wg.Wait()
	relations, events := map[int64]bool{}, map[int64]bool{}
	for i := 1; i <= n; i++ {
		o := out[i]
		if i == 9 { // deceased
			if fault.KindOf(o.err) != fault.Invalid {
				t.Errorf("hire of the deceased person: %v; want refused", o.err)
			}
			continue
		}
		if o.err != nil {
			t.Errorf("hire of person %d: %v", i, o.err)
			continue
		}
		if relations[o.d.Relation] || events[o.d.Event] || o.d.ID == 0 {
			t.Errorf("hire of person %d: relation %d, event %d, id %d: not its own", i, o.d.Relation, o.d.Event, o.d.ID)
		}
		relations[o.d.Relation], events[o.d.Event] = true, true
		rels, err := st.Employment.Relations(ctx, Person(i))
		if err != nil || len(rels) != 1 || rels[0].ID != o.d.Relation {
			t.Errorf("relations of person %d: %+v, %v; want relation %d only", i, rels, err, o.d.Relation)
		}
		evs, err := st.Population.Events(ctx, Person(i))
		if err != nil || len(evs) != 1 || evs[0].Seq != o.d.Event {
			t.Errorf("events of person %d: %+v, %v; want event %d only", i, evs, err, o.d.Event)
		}
	}
	// The same hire sent eight times at once (the source's check before the store's
	// transaction passes them all): one relation, the others refused.
	const copies = 8
	errs := make([]error, copies)
	for i := range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = src.Declare(ctx, AcmeInst, hire(Person(n+1), Acme, date.Of(2026, 8, 1)))
		}()
	}
	wg.Wait()
	taken := 0
	for _, err := range errs {
		switch {
		case err == nil:
			taken++
		case fault.KindOf(err) != fault.Conflict:
			t.Errorf("a copy of the hire: %v; want a conflict", err)
		}
	}
	if rels, _ := st.Employment.Relations(ctx, Person(n+1)); taken != 1 || len(rels) != 1 {
		t.Errorf("the same hire sent %d times at once: %d taken, relations %+v; want one", copies, taken, rels)
	}
	if rels, _ := st.Employment.Relations(ctx, Person(9)); len(rels) != 0 {
		t.Errorf("the refused hire left relations %+v", rels)
	}
	if evs, _ := st.Population.Events(ctx, Person(9)); len(evs) != 0 {
		t.Errorf("the refused hire left events %+v", evs)
	}
}
