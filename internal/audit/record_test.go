package audit_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

func TestBindingHash(t *testing.T) {
	req, resp := sha256.Sum256([]byte("request")), sha256.Sum256([]byte("response"))
	want := sha256.Sum256(append(req[:], resp[:]...))
	if got := audit.BindingHash(req, resp); got != want {
		t.Errorf("BindingHash = %x; want %x", got, want)
	}
	if audit.BindingHash(resp, req) == want {
		t.Errorf("BindingHash does not depend on the order of its hashes")
	}
}

// TestAppendRefuses checks that a record the log cannot keep as given is refused before
// it reaches a batch, with the field at fault.
func TestAppendRefuses(t *testing.T) {
	s, _ := newMemStore(t)
	l := audittest.OpenLog(t, s, audit.Config{})
	tests := []struct {
		name  string
		edit  func(r *audit.Record)
		field string
	}{
		{"no decision", func(r *audit.Record) { r.Decision = "" }, "decision"},
		{"odd decision", func(r *audit.Record) { r.Decision = "maybe" }, "decision"},
		{"no outcome", func(r *audit.Record) { r.Outcome = "" }, "outcome"},
		{"no request hash", func(r *audit.Record) { r.RequestHash = "" }, "request_hash"},
		{"short request hash", func(r *audit.Record) { r.RequestHash = r.RequestHash[:62] }, "request_hash"},
		{"request hash not hex", func(r *audit.Record) { r.RequestHash = strings.Repeat("g", 64) }, "request_hash"},
		{"no response hash", func(r *audit.Record) { r.ResponseHash = "" }, "response_hash"},
		{"wrong binding", func(r *audit.Record) { r.Binding = r.RequestHash }, "binding"},
		{"empty person", func(r *audit.Record) { r.Persons = []string{""} }, "persons"},
		{"year 10000", func(r *audit.Record) { r.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "time"},
	}
	for _, tt := range tests {
		r := audittest.Record(1)
		tt.edit(&r)
		seq, err := l.Append(context.Background(), r)
		var fe *fault.Error
		if seq != 0 || fault.KindOf(err) != fault.Invalid || !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("%s: Append = %d, %v; want an invalid %s", tt.name, seq, err, tt.field)
		}
	}
	if l.Size() != 0 {
		t.Errorf("refused records were stored: size %d", l.Size())
	}
}

// TestAppendFillsIn checks what Append adds: seq, binding, a time, lower-case hashes.
func TestAppendFillsIn(t *testing.T) {
	ctx := context.Background()
	s, _ := newMemStore(t)
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	l := audittest.OpenLog(t, s, audit.Config{Now: func() time.Time { return now }})
	r := audittest.Record(1, audittest.Person(1))
	r.Time, r.RequestHash = time.Time{}, strings.ToUpper(r.RequestHash)
	if _, err := l.Append(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := l.ByPerson(ctx, audittest.Person(1), 0, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("ByPerson = %v, %v", got, err)
	}
	req, _ := hex.DecodeString(r.RequestHash)
	resp, _ := hex.DecodeString(r.ResponseHash)
	b := audit.BindingHash([32]byte(req), [32]byte(resp))
	want := audit.Record{Seq: 1, Time: now.UTC(), RequestHash: strings.ToLower(r.RequestHash), Binding: hex.EncodeToString(b[:])}
	if g := got[0]; g.Seq != want.Seq || !g.Time.Equal(want.Time) || g.Time.Location() != time.UTC ||
		g.RequestHash != want.RequestHash || g.Binding != want.Binding {
		t.Errorf("stored record = %+v; want %+v", g, want)
	}
}
