package audit_test

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

func TestCosignatures(t *testing.T) {
	ctx := context.Background()
	wkey, wvkey, _ := note.GenerateKey(rand.Reader, "dpa.example")
	strangerKey, _, _ := note.GenerateKey(rand.Reader, "stranger.example")
	s, _ := newMemStore(t)
	l := audittest.OpenLog(t, s, audit.Config{Witnesses: []string{wvkey}})
	audittest.Append(t, l, 0, 10, nil)
	cp10, _ := l.CheckpointNow(ctx)
	audittest.Append(t, l, 10, 20, nil)
	cp20, _ := l.CheckpointNow(ctx)

	if c, err := l.AddCosignature(ctx, audittest.Cosign(t, cp20.Note, wkey)); err != nil || c.Witness != "dpa.example" || c.Size != 20 {
		t.Fatalf("AddCosignature(20) = %+v, %v", c, err)
	}
	if _, err := l.AddCosignature(ctx, audittest.Cosign(t, cp10.Note, wkey)); err != nil {
		t.Errorf("AddCosignature of an older checkpoint: %v", err)
	}
	if cs, _ := l.Cosignatures(ctx); len(cs) != 1 || cs[0].Size != 20 {
		t.Errorf("Cosignatures = %+v; want the witness's largest, 20", cs)
	}
	sign, _ := audittest.Signer(t, 1)
	signer, _ := sign()
	forged := func(size int64, root tlog.Hash) string {
		msg, err := note.Sign(&note.Note{Text: audit.Origin + "\n" + itoa(size) + "\n" + root.String() + "\n"}, signer)
		if err != nil {
			t.Fatal(err)
		}
		return audittest.Cosign(t, string(msg), wkey)
	}
	for name, c := range map[string]struct {
		note string
		want fault.Kind
	}{
		"the hub's note alone":     {cp20.Note, fault.Forbidden},
		"a stranger's cosignature": {audittest.Cosign(t, cp20.Note, strangerKey), fault.Forbidden},
		"another root":             {forged(20, tlog.Hash{1}), fault.Invalid},
		"a size beyond the log":    {forged(21, cp20.Root), fault.Invalid},
		"not a note":               {"hello", fault.Invalid},
		"a note signed by no one":  {audit.Origin + "\n20\n" + cp20.Root.String() + "\n\n", fault.Invalid},
	} {
		if _, err := l.AddCosignature(ctx, c.note); fault.KindOf(err) != c.want {
			t.Errorf("AddCosignature(%s) = %v; want %v", name, err, c.want)
		}
	}
	none := audittest.OpenLog(t, s, audit.Config{})
	if _, err := none.AddCosignature(ctx, audittest.Cosign(t, cp20.Note, wkey)); fault.KindOf(err) != fault.Forbidden {
		t.Errorf("AddCosignature to a log that expects no witness = %v; want Forbidden", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestCosignaturesRemembered: a cosignature is remembered beside the published
// checkpoint (owner only) before it is taken, and a file that cannot be read stops Open.
func TestCosignaturesRemembered(t *testing.T) {
	ctx := context.Background()
	wkey, wvkey, _ := note.GenerateKey(rand.Reader, "dpa.example")
	s, _ := newMemStore(t)
	published := filepath.Join(t.TempDir(), "published")
	cfg := audit.Config{Published: published, Witnesses: []string{wvkey}}
	l := audittest.OpenLog(t, s, cfg)
	audittest.Append(t, l, 0, 10, nil)
	cp, _ := l.CheckpointNow(ctx)
	if _, err := l.AddCosignature(ctx, audittest.Cosign(t, cp.Note, wkey)); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(audit.CosignedPath(published))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the remembered cosignatures: %v, %v; want a file of mode 0600", info, err)
	}
	l.Close(ctx)
	if err := os.WriteFile(audit.CosignedPath(published), []byte("[{"), 0o600); err != nil {
		t.Fatal(err)
	}
	sign, _ := audittest.Signer(t, 1)
	if l, err := audit.Open(ctx, s, sign, cfg); err == nil {
		l.Close(ctx)
		t.Error("Open with unreadable remembered cosignatures succeeded")
	}
}
