package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// fakeHub serves /audit/checkpoint and /audit/consistency from a log, or, once
// rollTo is set, the checkpoint of that earlier size: a hub that went back.
type fakeHub struct {
	l      *audit.Log
	store  audit.Store
	mu     sync.Mutex
	rollTo string
}

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	switch r.URL.Path {
	case "/audit/checkpoint":
		cp, err := h.l.CheckpointNow(ctx)
		h.mu.Lock()
		if h.rollTo != "" {
			cp.Note = h.rollTo
		}
		h.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"checkpoint": cp})
	case "/audit/consistency":
		from, _ := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
		to, _ := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64)
		c, err := h.l.Consistency(ctx, from, to)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(c)
	default:
		http.NotFound(w, r)
	}
}

func TestWitnessCommand(t *testing.T) {
	ctx := context.Background()
	_, hubKey := audittest.Signer(t, 1)
	db, err := sqlstore.Open(ctx, "sqlite:"+t.TempDir()+"/hub.db", sqlstore.Hub)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := &fakeHub{l: audittest.OpenLog(t, db.Audit(), audit.Config{})}
	srv := httptest.NewServer(h)
	defer srv.Close()
	dir := t.TempDir()
	witness := func() (string, string, error) {
		return cli(t, "", "witness", "--once", "--hub", srv.URL, "--hub-key", hubKey, "--dir", dir, "--name", "dpa.example")
	}
	audittest.Append(t, h.l, 0, 12, nil)
	old, _ := h.l.CheckpointNow(ctx)
	out, _, err := witness()
	if err != nil || !strings.Contains(out, "cosigned the checkpoint at size 12") || !strings.Contains(out, "dpa.example+") {
		t.Fatalf("witness, first start = %q, %v", out, err)
	}
	audittest.Append(t, h.l, 12, 20, nil)
	if out, _, err = witness(); err != nil || !strings.Contains(out, "at size 20") {
		t.Fatalf("witness after 8 more records = %q, %v", out, err)
	}
	h.mu.Lock()
	h.rollTo = old.Note
	h.mu.Unlock()
	_, errOut, err := witness()
	if code(err) != 2 || !strings.Contains(errOut, "ALARM rollback") {
		t.Errorf("witness of a rolled-back hub = %q, %v; want exit 2 and a rollback alarm", errOut, err)
	}
	if _, _, err := cli(t, "", "witness", "--once", "--hub", srv.URL, "--hub-key", "not-a-key", "--dir", t.TempDir()); err == nil {
		t.Errorf("witness with a hub key that is not one succeeded")
	}
}
