package audit_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// blockingStore holds every Append until release is closed.
type blockingStore struct {
	audit.Store
	entered chan struct{}
	release chan struct{}
}

func (s *blockingStore) Append(ctx context.Context, b audit.Batch) error {
	s.entered <- struct{}{}
	<-s.release
	return s.Store.Append(ctx, b)
}

// TestAppendGivesUp checks that a caller whose context ends while its batch commits is
// told the record is not acknowledged, and that Close waits for the batch.
func TestAppendGivesUp(t *testing.T) {
	mem, _ := newMemStore(t)
	s := &blockingStore{Store: mem, entered: make(chan struct{}, 10), release: make(chan struct{})}
	l := audittest.OpenLog(t, s, audit.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := l.Append(ctx, audittest.Record(1))
		done <- err
	}()
	<-s.entered
	cancel()
	if err := <-done; fault.KindOf(err) != fault.Unavailable || !errors.Is(err, context.Canceled) {
		t.Errorf("Append with its context cancelled = %v; want Unavailable", err)
	}
	closed := make(chan error)
	go func() { closed <- l.Close(context.Background()) }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned %v while a batch was committing", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(s.release)
	if err := <-closed; err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := l.Close(context.Background()); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := l.Append(context.Background(), audittest.Record(2)); fault.KindOf(err) != fault.Unavailable {
		t.Errorf("Append after Close = %v; want Unavailable", err)
	}
	audittest.MustVerify(t, mem)
}

// TestVerifyProgress checks the progress reports and the refusal of missing keys.
func TestVerifyProgress(t *testing.T) {
	ctx := context.Background()
	s, _ := newMemStore(t)
	l := audittest.OpenLog(t, s, audit.Config{})
	audittest.Append(t, l, 0, 2500, nil)
	l.Close(ctx)
	_, vkey := audittest.Signer(t, 1)
	var done []int64
	rep, err := audit.Verify(ctx, s, []string{vkey}, func(d, total int64) {
		if total != 2500 {
			t.Errorf("progress total = %d; want 2500", total)
		}
		done = append(done, d)
	})
	if err != nil || rep.Records != 2500 || rep.Checkpoints != 1 || !slices.Equal(done, []int64{1000, 2000, 2500}) {
		t.Errorf("Verify = %+v, %v, progress %v", rep, err, done)
	}
	if cp, _ := l.Checkpoint(ctx); cp.Root != rep.Root {
		t.Errorf("Verify root %v; checkpoint root %v", rep.Root, cp.Root)
	}
	if _, err := audit.Verify(ctx, s, nil, nil); fault.KindOf(err) != fault.Invalid {
		t.Errorf("Verify without a key = %v; want Invalid", err)
	}
	_, other := audittest.Signer(t, 2)
	var p *audit.Problem
	if _, err := audit.Verify(ctx, s, []string{other}, nil); !errors.As(err, &p) || p.Checkpoint != 2500 {
		t.Errorf("Verify with another key = %v; want the checkpoint at 2500 refused", err)
	}
}

// TestBatches checks that concurrent appends are committed together.
func TestBatches(t *testing.T) {
	mem, _ := newMemStore(t)
	s := &blockingStore{Store: mem, entered: make(chan struct{}, 100), release: make(chan struct{})}
	l := audittest.OpenLog(t, s, audit.Config{})
	var wg sync.WaitGroup
	wg.Go(func() { l.Append(context.Background(), audittest.Record(0)) })
	<-s.entered // the first batch holds the writer: the next 50 wait together
	for i := range 50 {
		wg.Go(func() { l.Append(context.Background(), audittest.Record(i+1)) })
	}
	testwait.For(t, 10*time.Second, testwait.True("51 records waiting", func() bool { return l.Pending() >= 51 }))
	close(s.release)
	wg.Wait()
	if n := len(s.entered); n != 1 {
		t.Errorf("50 waiting records took %d batches; want 1", n)
	}
}

// TestVerifyLive verifies a log while it is written and checkpointed.
func TestVerifyLive(t *testing.T) {
	ctx := context.Background()
	s, _ := newMemStore(t)
	l := audittest.OpenLog(t, s, audit.Config{CheckpointEvery: time.Millisecond})
	_, vkey := audittest.Signer(t, 1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := l.Append(ctx, audittest.Record(w*1_000_000+i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 20 {
		if rep, err := audit.Verify(ctx, s, []string{vkey}, nil); err != nil || rep.Records != rep.Size {
			t.Errorf("Verify of a live log = %+v, %v", rep, err)
		}
	}
	close(stop)
	wg.Wait()
}

// TestMessages checks that Messages gives the message ids of the records since a time,
// newest first, reading no further back than the most asked for.
func TestMessages(t *testing.T) {
	mem, _ := newMemStore(t)
	l := audittest.OpenLog(t, mem, audit.Config{})
	ctx := context.Background()
	now := time.Now().UTC()
	for i := range 2500 {
		r := audittest.Record(1)
		r.Time = now.Add(time.Duration(i-2500) * time.Second) // the last 600 within 10 minutes
		r.MessageID = "m" + string(rune('a'+i%26))
		if _, err := l.Append(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	if err := l.Messages(ctx, now.Add(-10*time.Minute), 1<<20, func(client, id string) { seen = append(seen, client+" "+id) }); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := 2499; i >= 1900; i-- {
		want = append(want, audittest.Record(1).Client+" m"+string(rune('a'+i%26)))
	}
	if !slices.Equal(seen, want) {
		t.Errorf("Messages gave %d (want 600, the newest first): %.5q…", len(seen), seen)
	}
	n := 0
	if err := l.Messages(ctx, now.Add(-10*time.Minute), 100, func(string, string) { n++ }); err != nil || n != 100 {
		t.Errorf("Messages reading at most 100 gave %d, %v", n, err)
	}
}
