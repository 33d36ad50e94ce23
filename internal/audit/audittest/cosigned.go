package audittest

import (
	"context"
	"crypto/rand"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/crossroads-hub/crossroads/internal/audit"
)

// Cosign adds the signature of the witness whose note signer key is skey to msg, a
// checkpoint note signed by the test signer of seed 1.
func Cosign(t testing.TB, msg, skey string) string {
	t.Helper()
	_, hubKey := Signer(t, 1)
	hv, err := note.NewVerifier(hubKey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open([]byte(msg), note.VerifierList(hv))
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	out, err := note.Sign(n, s)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// testCosigned: the store keeps each witness's largest cosigned checkpoint (a smaller
// or equal one is not kept), lists them by witness, and keeps them for a log opened
// later on it (another replica of the hub, a restart), which serves them.
func testCosigned(t *testing.T, open Open) {
	ctx := context.Background()
	s, _ := open(t)
	if cs, err := s.Cosigned(ctx); err != nil || len(cs) != 0 {
		t.Fatalf("Cosigned of a new store = %+v, %v; want none", cs, err)
	}
	for _, step := range []struct {
		c    audit.Cosigned
		kept bool
	}{
		{audit.Cosigned{Witness: "w2", Size: 20, Note: "n20"}, true},
		{audit.Cosigned{Witness: "w2", Size: 10, Note: "n10"}, false},
		{audit.Cosigned{Witness: "w2", Size: 20, Note: "other"}, false},
		{audit.Cosigned{Witness: "w1", Size: 5, Note: "n5"}, true},
		{audit.Cosigned{Witness: "w1", Size: 6, Note: "n6"}, true},
	} {
		if kept, err := s.SaveCosigned(ctx, step.c); err != nil || kept != step.kept {
			t.Errorf("SaveCosigned(%+v) = %v, %v; want %v", step.c, kept, err, step.kept)
		}
	}
	cs, err := s.Cosigned(ctx)
	want := []audit.Cosigned{{Witness: "w1", Size: 6, Note: "n6"}, {Witness: "w2", Size: 20, Note: "n20"}}
	if err != nil || len(cs) != 2 || cs[0] != want[0] || cs[1] != want[1] {
		t.Errorf("Cosigned = %+v, %v; want %+v", cs, err, want)
	}

	// Through a log: taken by one, served by the next one opened on the store.
	s, _ = open(t)
	wkey, wvkey, err := note.GenerateKey(rand.Reader, "witness.example")
	if err != nil {
		t.Fatal(err)
	}
	l := OpenLog(t, s, audit.Config{Witnesses: []string{wvkey}})
	Append(t, l, 0, 10, nil)
	cp, err := l.CheckpointNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.AddCosignature(ctx, Cosign(t, cp.Note, wkey)); err != nil {
		t.Fatalf("AddCosignature: %v", err)
	}
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	again := OpenLog(t, s, audit.Config{Witnesses: []string{wvkey}})
	if cs, err := again.Cosignatures(ctx); err != nil || len(cs) != 1 || cs[0].Witness != "witness.example" || cs[0].Size != 10 {
		t.Errorf("Cosignatures of the next log on the store = %+v, %v; want witness.example's at 10", cs, err)
	}
}
