package hub

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// gatedStore holds each record read, once gated, until the test releases it.
type gatedStore struct {
	directory.Store
	gated         atomic.Bool
	read, release chan struct{}
}

func (s *gatedStore) GetRecord(ctx context.Context, kind directory.Kind, key string) (directory.Record, error) {
	rec, err := s.Store.GetRecord(ctx, kind, key)
	if s.gated.Load() {
		s.read <- struct{}{}
		<-s.release
	}
	return rec, err
}

// TestMandateCache: a mandate revoked while the cache reads the old record is not put
// back by that read; a revocation made elsewhere is seen at the next refresh; an
// institution not found is refused and not remembered.
func TestMandateCache(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "hub.db"), sqlstore.Hub)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const employer = "0300000016"
	gs := &gatedStore{Store: db.Directory(), read: make(chan struct{}), release: make(chan struct{})}
	hubDir, elsewhere := directory.New(gs, nil), directory.New(db.Directory(), nil)
	inst := directory.Institution{Code: "PAYROLL-C", Name: "Payroll", Sector: "employment", Kind: "payroll_office", Mandates: []string{employer}}
	put := func(d *directory.Directory, mandates ...string) {
		t.Helper()
		inst.Mandates = mandates
		if _, _, err := directory.Put(ctx, d, "test", inst, directory.AnyVersion); err != nil {
			t.Fatal(err)
		}
	}
	put(hubDir, employer)
	c, err := newMandateCache(ctx, hubDir)
	if err != nil {
		t.Fatal(err)
	}
	hubDir.OnChange(func(_ context.Context, k directory.Kind) {
		if k == directory.KindInstitution {
			c.drop()
		}
	})

	// A read of the record under way while the mandate is revoked through the hub.
	gs.gated.Store(true)
	done := make(chan error)
	go func() { done <- c.check(ctx, inst.Code, employer) }()
	<-gs.read
	gs.gated.Store(false)
	put(hubDir) // revoked; the hub is told
	close(gs.release)
	if err := <-done; err != nil {
		t.Fatalf("the check that read the record before the revocation: %v", err)
	}
	if err := c.check(ctx, inst.Code, employer); fault.KindOf(err) != fault.Forbidden {
		t.Errorf("a check after the revocation: %v; want forbidden (the read before it not kept)", err)
	}

	// Given again through the hub, then revoked elsewhere: seen at the next refresh.
	put(hubDir, employer)
	if err := c.check(ctx, inst.Code, employer); err != nil {
		t.Fatalf("a check after the mandate was given again: %v", err)
	}
	put(elsewhere)
	if err := c.check(ctx, inst.Code, employer); err != nil {
		t.Errorf("a check before the refresh: %v; want the cached mandate (the refresh interval bounds it)", err)
	}
	if err := c.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.check(ctx, inst.Code, employer); fault.KindOf(err) != fault.Forbidden {
		t.Errorf("a check after the refresh: %v; want forbidden", err)
	}

	// An unknown institution is refused, and not remembered: created later, it may declare.
	if err := c.check(ctx, "PAYROLL-NEW", employer); fault.KindOf(err) != fault.Forbidden {
		t.Errorf("an unknown institution: %v; want forbidden", err)
	}
	inst = directory.Institution{Code: "PAYROLL-NEW", Name: "New", Sector: "employment", Kind: "payroll_office"}
	put(elsewhere, employer)
	if err := c.check(ctx, "PAYROLL-NEW", employer); err != nil {
		t.Errorf("an institution created elsewhere after a refusal: %v; want allowed", err)
	}
	if err := c.check(ctx, inst.Code, "0200000142"); fault.KindOf(err) != fault.Forbidden {
		t.Errorf("an employer that gave no mandate: %v; want forbidden", err)
	}
}
