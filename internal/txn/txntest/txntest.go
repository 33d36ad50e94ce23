// Package txntest is the contract test suite of txn.Store: every store runs it.
package txntest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/txn"
)

// Run runs the suite on stores from open, a fresh empty one per call.
func Run(t *testing.T, open func(t *testing.T) txn.Store) {
	ctx := context.Background()
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	base := txn.Txn{CorrelationID: "c1", Client: "app-1", Sender: "sender.example", MessageID: "m1",
		TransactionID: "t1", Registry: "crvs", Action: "search", Mode: txn.Async, Status: txn.Received,
		Request: []byte(`{"q":1}`), CallbackURI: "https://partner.example/cb", NextAttempt: at, Created: at}

	t.Run("create get update", func(t *testing.T) {
		s := open(t)
		if _, err := s.Get(ctx, "c1"); fault.KindOf(err) != fault.NotFound {
			t.Fatalf("Get on empty store = %v; want NotFound", err)
		}
		if _, err := s.Create(ctx, base); err != nil {
			t.Fatalf("Create: %v", err)
		}
		got, err := s.Get(ctx, "c1")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if got.Client != "app-1" || got.TransactionID != "t1" || !bytes.Equal(got.Request, base.Request) ||
			!got.NextAttempt.Equal(at) || !got.Created.Equal(at) || got.Response != nil || !got.Delivered.IsZero() {
			t.Errorf("Get = %+v; want what was created", got)
		}
		got.Status, got.Response, got.Attempts, got.LastError = txn.Success, []byte(`{"a":1}`), 2, "timeout"
		got.Delivered, got.NextAttempt = at.Add(time.Second), time.Time{}
		if err := s.Update(ctx, got); err != nil {
			t.Fatalf("Update: %v", err)
		}
		again, _ := s.Get(ctx, "c1")
		if again.Status != txn.Success || string(again.Response) != `{"a":1}` || again.Attempts != 2 ||
			again.LastError != "timeout" || !again.Delivered.Equal(at.Add(time.Second)) || !again.NextAttempt.IsZero() {
			t.Errorf("after Update, Get = %+v", again)
		}
		if err := s.Update(ctx, txn.Txn{CorrelationID: "nope"}); fault.KindOf(err) != fault.NotFound {
			t.Errorf("Update of an unknown transaction = %v; want NotFound", err)
		}
	})

	t.Run("a repeated message id returns the first", func(t *testing.T) {
		s := open(t)
		if _, err := s.Create(ctx, base); err != nil {
			t.Fatal(err)
		}
		dup := base
		dup.CorrelationID, dup.TransactionID = "c2", "t2"
		earlier, err := s.Create(ctx, dup)
		if fault.KindOf(err) != fault.Conflict || earlier.CorrelationID != "c1" {
			t.Errorf("Create with a used message id = %q, %v; want c1 and Conflict", earlier.CorrelationID, err)
		}
		if _, err := s.Get(ctx, "c2"); fault.KindOf(err) != fault.NotFound {
			t.Errorf("the duplicate was stored: %v", err)
		}
		other := dup
		other.Client = "app-2" // another application may use the same message id
		if _, err := s.Create(ctx, other); err != nil {
			t.Errorf("Create by another client with the same message id: %v", err)
		}
	})

	t.Run("by transaction", func(t *testing.T) {
		s := open(t)
		for i, c := range []string{"c1", "c2"} {
			x := base
			x.CorrelationID, x.MessageID, x.Created = c, "m"+c, at.Add(time.Duration(i)*time.Second)
			if _, err := s.Create(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.ByTransaction(ctx, "app-1", "search", "t1")
		if err != nil || got.CorrelationID != "c1" {
			t.Errorf("ByTransaction = %q, %v; want the first, c1", got.CorrelationID, err)
		}
		for _, q := range [][3]string{{"app-2", "search", "t1"}, {"app-1", "subscribe", "t1"}, {"app-1", "search", "t9"}} {
			if _, err := s.ByTransaction(ctx, q[0], q[1], q[2]); fault.KindOf(err) != fault.NotFound {
				t.Errorf("ByTransaction%v = %v; want NotFound", q, err)
			}
		}
	})

	t.Run("due", func(t *testing.T) {
		s := open(t)
		mk := func(c string, mode string, next, delivered time.Time) {
			x := base
			x.CorrelationID, x.MessageID, x.Mode, x.NextAttempt, x.Delivered = c, c, mode, next, delivered
			if _, err := s.Create(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		mk("later", txn.Async, at.Add(time.Minute), time.Time{})
		mk("now", txn.Async, at, time.Time{})
		mk("earlier", txn.Async, at.Add(-time.Minute), time.Time{})
		mk("delivered", txn.Async, at.Add(-time.Minute), at)
		mk("given-up", txn.Async, time.Time{}, time.Time{})
		mk("sync", txn.Sync, at.Add(-time.Minute), time.Time{})
		due, err := s.Due(ctx, at, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range due {
			ids = append(ids, d.CorrelationID)
		}
		if len(ids) != 2 || ids[0] != "earlier" || ids[1] != "now" {
			t.Errorf("Due = %v; want [earlier now]", ids)
		}
		// The worker compares a listing's update time with the whole transaction's.
		for _, d := range due {
			if g, err := s.Get(ctx, d.CorrelationID); err != nil || !g.Updated.Equal(d.Updated) || g.Client != d.Client || !g.NextAttempt.Equal(d.NextAttempt) {
				t.Errorf("Due listed %s updated %v, next %v; Get: %+v, %v", d.CorrelationID, d.Updated, d.NextAttempt, g, err)
			}
		}
		if due, _ := s.Due(ctx, at, 1); len(due) != 1 {
			t.Errorf("Due with limit 1 = %d transactions", len(due))
		}
	})
}
