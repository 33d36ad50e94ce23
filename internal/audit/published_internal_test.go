package audit

import (
	"crypto/rand"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// signedTree is a signed checkpoint note of size (its root made up).
func signedTree(t *testing.T, signer note.Signer, size int64) string {
	t.Helper()
	msg, err := note.Sign(&note.Note{Text: formatTree(size, tlog.Hash{byte(size)})}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return string(msg)
}

// TestPublishedNeverStepsBack: replicas of the hub sharing the folder of the published
// checkpoint write it at once, each its own latest; the file ends with the largest, and
// a smaller one written after a larger one leaves it. The cosigned checkpoints beside
// it likewise keep each witness's largest.
func TestPublishedNeverStepsBack(t *testing.T) {
	skey, _, err := note.GenerateKey(rand.Reader, "hub.example")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	path := filepath.Join(t.TempDir(), "audit-checkpoint")

	if err := writePublished(path, signedTree(t, signer, 20)); err != nil {
		t.Fatal(err)
	}
	if err := writePublished(path, signedTree(t, signer, 10)); err != nil {
		t.Fatal(err)
	}
	if cp, _, _ := ReadPublished(path); cp.Size != 20 {
		t.Errorf("after 20 then 10, the file holds %d; want 20", cp.Size)
	}

	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			size := int64(21 + (i*7)%40) // 21 to 60, in no order
			if err := writePublished(path, signedTree(t, signer, size)); err != nil {
				t.Error(err)
			}
			if err := rememberCosigned(CosignedPath(path), []Cosigned{{Witness: []string{"a", "b"}[i%2], Size: size, Note: "n"}}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if cp, _, _ := ReadPublished(path); cp.Size != 60 {
		t.Errorf("after 40 replicas wrote at once, the file holds %d; want the largest, 60", cp.Size)
	}
	cs, err := readCosigned(CosignedPath(path))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, c := range cs {
		got[c.Witness] = c.Size
	}
	// a wrote the even i (sizes 21 + 7i mod 40 for even i), b the odd.
	want := map[string]int64{}
	for i := range 40 {
		w := []string{"a", "b"}[i%2]
		want[w] = max(want[w], int64(21+(i*7)%40))
	}
	if len(cs) != 2 || got["a"] != want["a"] || got["b"] != want["b"] {
		t.Errorf("cosigned remembered: %+v; want a at %d, b at %d", cs, want["a"], want["b"])
	}
}
