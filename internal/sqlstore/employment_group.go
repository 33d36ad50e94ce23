package sqlstore

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Group commit of immediate declarations on SQLite. Its one writer connection takes
// transactions one after the other, so concurrent declarations queued behind each
// other's BEGIN, COMMIT and the WAL frames of the same pages (the event log's, the
// relations', the declarations' last pages) written again by each. Declarations that
// arrive while a transaction is under way wait for it, then go together in the next:
// one transaction, each declaration in a savepoint of its own (one refused, by the
// register or a version check, rolls back its own work only), and each caller is
// answered only once the transaction committed, with its own outcome. A commit that
// fails fails every declaration of the group: none was answered as recorded, and the
// audit record the caller seals next says so.
//
// No goroutine of its own: the first caller of a group leads it (runs the transaction)
// and hands the lead to the first of those that arrived meanwhile.

// maxGroup bounds the declarations of one transaction.
const maxGroup = 256

// Each declaration of a group in a savepoint of its own (prepared at Open).
const (
	savepointSQL  = `SAVEPOINT declaration`
	rollbackToSQL = `ROLLBACK TO declaration`
	releaseSQL    = `RELEASE declaration`
)

type applyGroup struct {
	mu      sync.Mutex
	busy    bool // a leader is running a transaction
	pending []*applyReq
}

type applyReq struct {
	s   *employmentStore
	d   employment.Declaration
	rel employment.Relation
	ev  *employment.Mutation

	out  employment.Declaration
	err  error
	lead bool          // woken to lead the next group rather than with an outcome
	wake chan struct{} // closed when out and err are set, or lead
}

// apply records one declaration in the next group and returns its outcome once the
// group's transaction has committed (or failed).
func (g *applyGroup) apply(ctx context.Context, s *employmentStore, d employment.Declaration, rel employment.Relation, ev *employment.Mutation) (employment.Declaration, error) {
	req := &applyReq{s: s, d: d, rel: rel, ev: ev, wake: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, req)
	if g.busy {
		g.mu.Unlock()
		<-req.wake // never abandoned: the declaration may be committed
		if !req.lead {
			return req.out, req.err
		}
	} else {
		g.busy = true
		g.mu.Unlock()
		// Let the handlers already runnable reach the group before it starts: measured
		// under the API benchmark, 7 declarations a transaction instead of 2, and each
		// commit's processor time (WAL frames written) shared by more.
		runtime.Gosched()
	}
	g.lead(ctx)
	return req.out, req.err
}

// lead runs the pending declarations (at most maxGroup) in one transaction, answers
// them, and passes the lead on to the first still waiting, if any.
func (g *applyGroup) lead(ctx context.Context) {
	g.mu.Lock()
	n := min(len(g.pending), maxGroup)
	batch := g.pending[:n:n]
	g.pending = g.pending[n:]
	g.mu.Unlock()

	// Whatever happens, the lead passes on and the group is answered: a panic below
	// must not leave the others waiting for ever.
	defer func() {
		g.mu.Lock()
		if len(g.pending) > 0 {
			next := g.pending[0]
			next.lead = true
			close(next.wake)
		} else {
			g.busy = false
		}
		g.mu.Unlock()
		for _, r := range batch {
			if !r.lead { // the leader's own request is answered by its return
				close(r.wake)
			}
		}
	}()
	defer func() {
		if p := recover(); p != nil {
			for _, r := range batch {
				r.out, r.err = employment.Declaration{}, fault.Wrap(fmt.Errorf("panic: %v", p), "record a declaration")
			}
			panic(p) // on to the caller's recovery, once the group is answered
		}
	}()
	// The group is others' work too: the leader's caller going away cancels none of it.
	runGroup(context.WithoutCancel(ctx), batch)
}

// runGroup applies each declaration in a savepoint of one transaction and commits.
func runGroup(ctx context.Context, batch []*applyReq) {
	s := batch[0].s
	fail := func(err error) {
		for _, r := range batch {
			r.out, r.err = employment.Declaration{}, err
		}
	}
	tx, err := s.db.begin(ctx, "record a declaration")
	if err != nil {
		fail(err)
		return
	}
	defer tx.Rollback()
	for _, r := range batch {
		if _, err := s.db.txExec(ctx, tx, savepointSQL); err != nil {
			fail(mapErr(err, "record a declaration"))
			return
		}
		r.out, r.err = s.applyTx(ctx, tx, r.d, r.rel, r.ev)
		if r.err != nil {
			if _, err := s.db.txExec(ctx, tx, rollbackToSQL); err != nil {
				fail(mapErr(err, "record a declaration"))
				return
			}
		}
		if _, err := s.db.txExec(ctx, tx, releaseSQL); err != nil {
			fail(mapErr(err, "record a declaration"))
			return
		}
	}
	if err := commit(tx, "record a declaration"); err != nil {
		fail(err)
	}
}
