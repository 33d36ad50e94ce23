package audit_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

type key ed25519.PrivateKey

func (k key) Sign(msg []byte) []byte    { return ed25519.Sign(ed25519.PrivateKey(k), msg) }
func (k key) Public() ed25519.PublicKey { return ed25519.PrivateKey(k).Public().(ed25519.PublicKey) }

// TestSignerIsNotes checks that NewSigner signs exactly as note's own Ed25519 signer of
// the same key, and that VerifierKey verifies it.
func TestSignerIsNotes(t *testing.T) {
	const name = "hub.crossroads.example"
	seed := make([]byte, ed25519.SeedSize)
	seed[3] = 7
	priv := ed25519.NewKeyFromSeed(seed)
	ours, err := audit.NewSigner(name, key(priv))
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := audit.VerifierKey(name, priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatalf("NewVerifier(%q): %v", vkey, err)
	}
	if v.KeyHash() != ours.KeyHash() || v.Name() != ours.Name() {
		t.Errorf("verifier %s/%08x; signer %s/%08x", v.Name(), v.KeyHash(), ours.Name(), ours.KeyHash())
	}
	skey := fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", name, ours.KeyHash(),
		base64.StdEncoding.EncodeToString(append([]byte{1}, seed...)))
	theirs, err := note.NewSigner(skey)
	if err != nil {
		t.Fatalf("note.NewSigner: %v", err)
	}
	n := &note.Note{Text: audit.Origin + "\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"}
	a, err := note.Sign(n, ours)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := note.Sign(n, theirs)
	if string(a) != string(b) {
		t.Errorf("signed note\n%s\nnote's own signer gives\n%s", a, b)
	}
	if _, err := note.Open(a, note.VerifierList(v)); err != nil {
		t.Errorf("note.Open: %v", err)
	}
}

func TestNewSignerRefuses(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	for _, name := range []string{"", "two words", "a+b"} {
		if _, err := audit.NewSigner(name, key(priv)); err == nil {
			t.Errorf("NewSigner(%q) succeeded", name)
		}
		if _, err := audit.VerifierKey(name, priv.Public().(ed25519.PublicKey)); err == nil {
			t.Errorf("VerifierKey(%q) succeeded", name)
		}
	}
}

// TestCheckpointEvery checks that checkpoints follow the log while it is written, and
// that only a log that grew gets a new one.
func TestCheckpointEvery(t *testing.T) {
	ctx := context.Background()
	s, _ := newMemStore(t)
	l := audittest.OpenLog(t, s, audit.Config{CheckpointEvery: 5 * time.Millisecond})
	for round := 1; round <= 3; round++ {
		audittest.Append(t, l, 0, 10, nil)
		want := l.Size()
		testwait.For(t, 5*time.Second, func() error {
			if c, err := s.LatestCheckpoint(ctx); err != nil || c.Size != want {
				return fmt.Errorf("round %d: a checkpoint of size %d (latest: %+v, %v)", round, want, c, err)
			}
			return nil
		})
	}
	before, _ := s.Checkpoints(ctx, 0, 100)
	// Time passing is what is tested here: six periods of the checkpointer, with nothing
	// written, must sign nothing.
	time.Sleep(30 * time.Millisecond)
	if after, _ := s.Checkpoints(ctx, 0, 100); len(after) != len(before) {
		t.Errorf("an idle log signed %d more checkpoints", len(after)-len(before))
	}
	audittest.MustVerify(t, s)
}

// TestOpenRefusesLostRecords checks that a log does not open on a store that lost
// records its latest checkpoint covers, as a restored old backup would.
func TestOpenRefusesLostRecords(t *testing.T) {
	ctx := context.Background()
	st, _ := newMemStore(t)
	s := st.(*memStore)
	l := audittest.OpenLog(t, s, audit.Config{})
	audittest.Append(t, l, 0, 20, nil)
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	s.truncate(15)
	sign, _ := audittest.Signer(t, 1)
	if l, err := audit.Open(ctx, s, sign, audit.Config{}); err == nil {
		l.Close(ctx)
		t.Errorf("Open on a store with 14 records and a checkpoint at 20 succeeded")
	}
}

func TestOpenRefusesNoSigner(t *testing.T) {
	s, _ := newMemStore(t)
	noKey := func() (note.Signer, error) { return nil, errors.New("the key set is empty") }
	if l, err := audit.Open(context.Background(), s, noKey, audit.Config{}); err == nil {
		l.Close(context.Background())
		t.Errorf("Open without a signer succeeded")
	}
}
