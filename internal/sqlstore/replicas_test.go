package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/lease"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// TestAuditReplicas appends from two logs on one PostgreSQL schema, as two hub processes
// do (issue #17): every Append succeeds, the seqs are 1 to N without a repeat, both sign
// checkpoints, and the store is one log that verifies.
func TestAuditReplicas(t *testing.T) {
	ctx := context.Background()
	dbs := openPostgresReplicas(t, 2, sqlstore.Hub)
	logs := make([]*audit.Log, len(dbs))
	for i, db := range dbs {
		logs[i] = audittest.OpenLog(t, db.Audit(), audit.Config{})
	}
	const perWorker, workers = 60, 8
	var mu sync.Mutex
	var seqs []int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := logs[w%len(logs)]
			for i := range perWorker {
				n := w*perWorker + i
				seq, err := l.Append(ctx, audittest.Record(n, audittest.Person(n)))
				if err != nil {
					t.Errorf("replica %d: Append(%d): %v", w%len(logs), n, err)
					return
				}
				mu.Lock()
				seqs = append(seqs, seq)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	const total = perWorker * workers
	slices.Sort(seqs)
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("acknowledged seqs = %v…; want 1 to %d, each once", seqs[:min(len(seqs), i+3)], total)
		}
	}
	for i, l := range logs {
		cp, err := l.CheckpointNow(ctx)
		if err != nil || cp.Size != total {
			t.Errorf("replica %d: CheckpointNow = size %d, %v; want %d", i, cp.Size, err, total)
		}
	}
	_, vkey := audittest.Signer(t, 1)
	rep, err := audit.Verify(ctx, dbs[0].Audit(), []string{vkey}, nil)
	if err != nil || rep.Records != total {
		t.Fatalf("Verify = %+v, %v; want %d records", rep, err, total)
	}
	for i := range 3 {
		p := audittest.Person(i)
		rs, err := logs[1].ByPerson(ctx, p, 0, 100)
		if err != nil || len(rs) == 0 {
			t.Errorf("ByPerson(%s) = %d records, %v; want its records", p, len(rs), err)
		}
	}
}

// BenchmarkAuditReplicas appends to one log on PostgreSQL through 1 and 2 logs (hub
// processes), from 64 goroutines a processor spread over them; every record is committed
// before its Append returns. The replicas' batches take the log's lock in turn.
func BenchmarkAuditReplicas(b *testing.B) {
	records := make([]audit.Record, 1024)
	for i := range records {
		records[i] = audittest.Record(i, audittest.Person(i))
	}
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			ctx := context.Background()
			var logs []*audit.Log
			for _, db := range openPostgresReplicas(b, n, sqlstore.Hub) {
				logs = append(logs, audittest.OpenLog(b, db.Audit(), audit.Config{}))
			}
			var next atomic.Int64
			b.SetParallelism(64)
			cpu0 := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				l := logs[next.Add(1)%int64(len(logs))]
				for pb.Next() {
					if _, err := l.Append(ctx, records[next.Add(1)%int64(len(records))]); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			for _, l := range logs {
				if _, err := l.CheckpointNow(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/record")
		})
	}
}

// TestLeases takes a lease from two handles on one PostgreSQL schema: one holds it, the
// other is refused; when the holder's session is killed (as when its process dies), the
// holder learns it lost the lease and the other takes it.
func TestLeases(t *testing.T) {
	ctx := context.Background()
	dbs := openPostgresReplicas(t, 2, sqlstore.Hub)
	a, b := dbs[0].Leases(), dbs[1].Leases()
	h, ok, err := a.TryAcquire(ctx, "relay")
	if err != nil || !ok {
		t.Fatalf("first TryAcquire = %v, %v; want the lease", ok, err)
	}
	defer h.Release()
	if _, ok, err := b.TryAcquire(ctx, "relay"); err != nil || ok {
		t.Fatalf("second TryAcquire while held = %v, %v; want refused", ok, err)
	}
	other, ok, err := b.TryAcquire(ctx, "router")
	if err != nil || !ok {
		t.Fatalf("TryAcquire(another name) = %v, %v; want it", ok, err)
	}
	other.Release()
	if _, err := dbs[1].ExecForTest(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
		AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(current_schema() || '.lease.relay', 0)`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("the holder did not learn its session ended")
	}
	testwait.For(t, 10*time.Second, func() error {
		h2, ok, err := b.TryAcquire(ctx, "relay")
		if err != nil || !ok {
			return fmt.Errorf("TryAcquire after the holder's session ended = %v, %v", ok, err)
		}
		h2.Release()
		return nil
	})
}

// TestLeaseConfirm: a holder confirms its lease at the server; once its session is
// ended from outside (as when the server gave the lock up), Confirm says so at once,
// without waiting for the next ping, and the lease is lost.
func TestLeaseConfirm(t *testing.T) {
	ctx := context.Background()
	dbs := openPostgresReplicas(t, 2, sqlstore.Hub)
	h, ok, err := dbs[0].Leases().TryAcquire(ctx, "confirm")
	if err != nil || !ok {
		t.Fatalf("TryAcquire = %v, %v; want the lease", ok, err)
	}
	defer h.Release()
	c, ok := h.(lease.Confirmer)
	if !ok {
		t.Fatal("a PostgreSQL lease cannot be confirmed")
	}
	// Several lanes confirm at once, while the lease's pings go on: one session, its
	// queries in turn.
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if err := c.Confirm(ctx); err != nil {
					t.Errorf("Confirm while held = %v; want nil", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if _, err := dbs[1].ExecForTest(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
		AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(current_schema() || '.lease.confirm', 0)`); err != nil {
		t.Fatal(err)
	}
	if err := c.Confirm(ctx); !errors.Is(err, lease.ErrLost) {
		t.Errorf("Confirm after the session ended = %v; want lease lost", err)
	}
	select {
	case <-h.Lost():
	default:
		t.Error("Confirm found the lease gone but did not mark it lost")
	}
}

// TestSettledEventSeq interleaves two transactions on PostgreSQL: T1 takes an event's
// seq first and commits last, T2 records a later event and commits at once. While T1 is
// open the log is not final past T1's seq, so the relay cannot pass it for good; once
// T1 commits, both events are final.
func TestSettledEventSeq(t *testing.T) {
	ctx := context.Background()
	db := openPostgres(t, sqlstore.Civil)
	pop := db.Population()
	a, b := populationtestPerson(t, 1), populationtestPerson(t, 2)
	if err := pop.PutPersons(ctx, []population.Person{{Number: a}, {Number: b}}); err != nil {
		t.Fatal(err)
	}
	before, err := pop.SettledEventSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t1, err := db.BeginForTest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer t1.Rollback()
	// T1 as the store's writers go: the person first, then the event.
	key := strings.ReplaceAll(a, ".", "")
	if r, err := t1.ExecContext(ctx, `UPDATE person SET household = household WHERE number = $1`, key); err != nil {
		t.Fatal(err)
	} else if n, _ := r.RowsAffected(); n != 1 {
		t.Fatalf("T1 changed %d persons; want 1", n)
	}
	var s1 int64
	if err := t1.QueryRowContext(ctx, `INSERT INTO event (type, person, event_date, data, recorded_at) VALUES ('address', $1, 20260101, NULL, 0) RETURNING seq`, key).Scan(&s1); err != nil {
		t.Fatal(err)
	}
	ev2, err := pop.Record(ctx, population.Event{Type: population.EventAddress, Person: b, Date: 20260102},
		func(p *population.Person) error { p.Address.HouseNumber = "2"; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if ev2.Seq <= s1 {
		t.Fatalf("T2's seq %d is not after T1's %d", ev2.Seq, s1)
	}
	for range 3 {
		if got, err := pop.SettledEventSeq(ctx); err != nil || got >= s1 || got < before {
			t.Fatalf("SettledEventSeq while T1 (seq %d) is open = %d, %v; want at least %d and below %d", s1, got, err, before, s1)
		}
	}
	if err := t1.Commit(); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 10*time.Second, func() error {
		got, err := pop.SettledEventSeq(ctx)
		if err != nil || got < ev2.Seq {
			return fmt.Errorf("SettledEventSeq after T1 committed = %d, %v; want %d", got, err, ev2.Seq)
		}
		return nil
	})
	evs, err := pop.EventsAfter(ctx, s1-1, 10)
	if err != nil || len(evs) != 2 || evs[0].Seq != s1 || evs[1].Seq != ev2.Seq {
		t.Errorf("EventsAfter(%d) = %+v, %v; want seqs %d and %d", s1-1, evs, err, s1, ev2.Seq)
	}
}

// populationtestPerson is a person number for the register's tests.
func populationtestPerson(t *testing.T, i int) string {
	t.Helper()
	p, err := ident.MakePerson(1980, 1, 1+i, 10+i, ident.Register)
	if err != nil {
		t.Fatal(err)
	}
	return p.String()
}

// TestClaims claims ids through two handles on one database: a repeat is refused by the
// other replica, the same id in another scope is not, an id older than the window may
// come again, and a window over an hour is refused.
func TestClaims(t *testing.T) {
	ctx := context.Background()
	dbs := openPostgresReplicas(t, 2, sqlstore.Hub)
	a, b := dbs[0].Claims(), dbs[1].Claims()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	const window = 10 * time.Minute
	for _, c := range []struct {
		c         *sqlstore.Claims
		scope, id string
		at        time.Time
		first     bool
	}{
		{a, "message:app-1", "m-1", now, true},
		{b, "message:app-1", "m-1", now.Add(time.Second), false},
		{a, "message:app-1", "m-1", now.Add(2 * time.Second), false},
		{b, "message:app-2", "m-1", now.Add(3 * time.Second), true},
		{b, "assertion:app-1", "m-1", now.Add(3 * time.Second), true},
		{b, "message:app-1", "m-2", now.Add(4 * time.Second), true},
		{a, "message:app-1", "m-1", now.Add(window + 3*time.Second), true}, // the claim at +2 s was a repeat, not a claim
		{b, "message:app-1", "m-1", now.Add(window + 4*time.Second), false},
	} {
		first, err := c.c.Claim(ctx, c.scope, c.id, c.at, window)
		if err != nil || first != c.first {
			t.Errorf("Claim(%s, %s, +%v) = %v, %v; want %v", c.scope, c.id, c.at.Sub(now), first, err, c.first)
		}
	}
	if _, err := a.Claim(ctx, "message:app-1", "m-3", now, 2*time.Hour); fault.KindOf(err) != fault.Invalid {
		t.Errorf("Claim(window 2h) = %v; want Invalid", err)
	}
}
