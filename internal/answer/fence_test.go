package answer

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/lease"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
	"github.com/crossroads-hub/crossroads/internal/testwait"
	"github.com/crossroads-hub/crossroads/internal/txn"
)

// TestWorkerFenced: the asynchronous worker confirms its lease before each effect only
// the holder may have. A replica whose lease is found lost answers nothing (an
// unanswered transaction would need the exchange, which this worker lacks: it would
// panic), posts no callback and records nothing; one that loses it after posting records
// nothing either (the next holder, finding the transaction as stored, delivers again:
// at least once); one that keeps it delivers and records the delivery.
func TestWorkerFenced(t *testing.T) {
	for _, c := range []struct {
		name      string
		answered  bool
		confirms  int // confirmations answered before the lease is found lost; -1: never lost
		posts     int
		delivered bool
	}{
		{"lost before answering", false, 0, 0, false},
		{"lost before delivering", true, 0, 0, false},
		{"lost before recording the delivery", true, 1, 1, false},
		{"held", true, -1, 1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			var posts atomic.Int32
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { posts.Add(1) }))
			defer rcv.Close()
			txns := &memTxns{m: map[string]txn.Txn{}}
			tx := txn.Txn{CorrelationID: "c-1", Client: "app-1", MessageID: "m-1", Registry: "crvs", Action: "search", Mode: txn.Async,
				Status: txn.Received, Request: []byte(`{}`), CallbackURI: rcv.URL + "/cb", Created: time.Now(), Updated: time.Now()}
			if c.answered {
				tx.Status, tx.Response = txn.Success, []byte(`{"answer":1}`)
			}
			txns.m[tx.CorrelationID] = tx
			w := New(Config{Txns: txns, Directory: fenceDirectory(t, rcv.URL), Client: rcv.Client()})
			l := &scriptedLocker{confirms: c.confirms}
			wctx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); lease.Run(wctx, l, "async", w.Log, w.Run) }()
			// Wait until the worker has been through the transaction: the lease found lost,
			// or the delivery recorded.
			testwait.For(t, 10*time.Second, func() error {
				if l.lostOnce.Load() || !txns.get("c-1").Delivered.IsZero() {
					return nil
				}
				return errors.New("the worker has not been through the transaction yet")
			})
			stop()
			<-done
			got := txns.get("c-1")
			if n := int(posts.Load()); n != c.posts {
				t.Errorf("callbacks posted: %d; want %d", n, c.posts)
			}
			if !got.Delivered.IsZero() != c.delivered || (!c.delivered && txns.updates.Load() != 0) {
				t.Errorf("recorded: delivered %v after %d updates; want delivered %v and, when not, no update", got.Delivered, txns.updates.Load(), c.delivered)
			}
		})
	}
}

// fenceDirectory holds an application whose callbacks are under base.
func fenceDirectory(t *testing.T, base string) *directory.Directory {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "hub.db"), sqlstore.Hub)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d := directory.New(db.Directory(), time.Now)
	if _, _, err := directory.Put(ctx, d, "test", directory.Institution{Code: "INST-1", Name: "Institution", Sector: "pensions",
		Kind: "fund", Enterprise: "0403170701"}, directory.MustCreate); err != nil {
		t.Fatal(err)
	}
	if _, _, err := directory.Put(ctx, d, "test", directory.Application{ID: "app-1", Institution: "INST-1", Name: "App",
		Status: directory.StatusActive, AuthMethods: []string{"client_secret"}, Callbacks: []string{base + "/"}}, directory.MustCreate); err != nil {
		t.Fatal(err)
	}
	return d
}

// scriptedLocker grants its lease once; the lease answers confirms confirmations, then
// is lost (-1: never).
type scriptedLocker struct {
	mu       sync.Mutex
	taken    bool
	confirms int
	lostOnce atomic.Bool
}

func (l *scriptedLocker) TryAcquire(context.Context, string) (lease.Held, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.taken {
		return nil, false, nil
	}
	l.taken = true
	return &scriptedHeld{l: l, lost: make(chan struct{})}, true, nil
}

type scriptedHeld struct {
	l    *scriptedLocker
	lost chan struct{}
	once sync.Once
}

func (h *scriptedHeld) Lost() <-chan struct{} { return h.lost }
func (h *scriptedHeld) Release()              {}

func (h *scriptedHeld) Confirm(context.Context) error {
	h.l.mu.Lock()
	defer h.l.mu.Unlock()
	if h.l.confirms < 0 {
		return nil
	}
	if h.l.confirms == 0 {
		h.once.Do(func() { close(h.lost); h.l.lostOnce.Store(true) })
		return lease.ErrLost
	}
	h.l.confirms--
	return nil
}

// memTxns is a txn.Store in memory, counting updates.
type memTxns struct {
	mu      sync.Mutex
	m       map[string]txn.Txn
	updates atomic.Int32
}

func (s *memTxns) get(id string) txn.Txn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[id]
}

func (s *memTxns) Create(_ context.Context, t txn.Txn) (txn.Txn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[t.CorrelationID] = t
	return t, nil
}

func (s *memTxns) Get(_ context.Context, id string) (txn.Txn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.m[id]
	if !ok {
		return txn.Txn{}, fault.NotFoundf("transaction %s", id)
	}
	return t, nil
}

func (s *memTxns) ByTransaction(context.Context, string, string, string) (txn.Txn, error) {
	return txn.Txn{}, fault.NotFoundf("transaction")
}

func (s *memTxns) Update(_ context.Context, t txn.Txn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates.Add(1)
	t.Updated = time.Now()
	s.m[t.CorrelationID] = t
	return nil
}

func (s *memTxns) Due(_ context.Context, now time.Time, limit int) ([]txn.Txn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []txn.Txn
	for _, t := range s.m {
		if !t.Answered() || (t.Delivered.IsZero() && !t.NextAttempt.After(now)) {
			out = append(out, t)
		}
	}
	return out[:min(len(out), limit)], nil
}
