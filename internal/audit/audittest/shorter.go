package audittest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/audit"
)

// testShorter deletes the log's tail together with its checkpoints, or the whole log,
// or rewrites it, behind the log's back: Verify alone cannot tell (the store is
// consistent with itself), but the checkpoint the log remembered outside the store
// makes Open and CheckPublished refuse it, naming the records missing.
func testShorter(t *testing.T, open Open) {
	ctx := context.Background()
	_, vkey := Signer(t, 1)
	sign, _ := Signer(t, 1)
	for _, c := range []struct {
		name    string
		keep    int64 // records left
		rewrite int   // records appended again, different ones, by a log without the file
		want    string
	}{
		{"tail with its checkpoints", 15, 0, "records 16 to 30 are missing"},
		{"whole log", 0, 0, "records 1 to 30 are missing"},
		{"tail rewritten", 15, 20, "do not hash to its root"},
		{"tail rewritten shorter", 15, 5, "records 21 to 30 are missing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, tam := open(t)
			published := filepath.Join(t.TempDir(), "published")
			l := OpenLog(t, s, audit.Config{Published: published})
			for _, size := range []int{10, 20, 30} {
				Append(t, l, int(l.Size()), size, nil)
				if _, err := l.CheckpointNow(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if info, err := os.Stat(published); err != nil || info.Mode().Perm() != 0o600 {
				t.Fatalf("the remembered checkpoint: %v, %v; want a file of mode 0600", info, err)
			}
			if err := tam.Truncate(ctx, c.keep); err != nil {
				t.Fatal(err)
			}
			if c.rewrite > 0 {
				again := OpenLog(t, s, audit.Config{})
				Append(t, again, 500, 500+c.rewrite, nil)
				if err := again.Close(ctx); err != nil {
					t.Fatal(err)
				}
			}
			MustVerify(t, s) // consistent with itself: what Verify said before the file
			_, err := audit.Open(ctx, s, sign, audit.Config{Published: published})
			var p *audit.Problem
			if !errors.As(err, &p) || p.Checkpoint != 30 || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Open on a shorter log = %v; want a problem with checkpoint 30 naming %q", err, c.want)
			}
			if size, _ := s.Size(ctx); size != c.keep+int64(c.rewrite) {
				t.Errorf("the refused Open wrote to the store: %d records; want %d", size, c.keep+int64(c.rewrite))
			}
			cp, ok, err := audit.CheckPublished(ctx, s, published, []string{vkey})
			if !ok || cp.Size != 30 || !errors.As(err, &p) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("CheckPublished = %d, %v, %v; want the problem %q", cp.Size, ok, err, c.want)
			}
		})
	}
	t.Run("honest", func(t *testing.T) {
		s, _ := open(t)
		published := filepath.Join(t.TempDir(), "published")
		for round := range 3 {
			l := OpenLog(t, s, audit.Config{Published: published})
			Append(t, l, round*10, round*10+10, nil)
			if err := l.Close(ctx); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			cp, ok, err := audit.CheckPublished(ctx, s, published, []string{vkey})
			if err != nil || !ok || cp.Size != int64(round*10+10) {
				t.Fatalf("round %d: CheckPublished = %d, %v, %v; want the checkpoint at %d", round, cp.Size, ok, err, round*10+10)
			}
		}
		_, other := Signer(t, 2)
		if _, _, err := audit.CheckPublished(ctx, s, published, []string{other}); err == nil {
			t.Errorf("CheckPublished with another key succeeded")
		}
	})
	t.Run("forged file", func(t *testing.T) {
		s, _ := open(t)
		published := filepath.Join(t.TempDir(), "published")
		l := OpenLog(t, s, audit.Config{Published: published})
		Append(t, l, 0, 10, nil)
		l.Close(ctx)
		if err := os.WriteFile(published, []byte("not a checkpoint\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if l, err := audit.Open(ctx, s, sign, audit.Config{Published: published}); err == nil {
			l.Close(ctx)
			t.Errorf("Open with an unreadable remembered checkpoint succeeded")
		}
	})
}
