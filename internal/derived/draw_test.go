package derived

import (
	"hash/fnv"
	"testing"
)

// draw is hash/fnv's FNV-1a written out: the derived registries' figures of a nation
// must not change with it.
func TestDrawIsFNV(t *testing.T) {
	for _, c := range []struct{ number, prefix, salt string }{
		{"80010100123", "", "income"}, {"80010100123", "wg-", "seeing"}, {"", "", ""}, {"1", "crop-", "maize"},
	} {
		h := fnv.New64a()
		h.Write([]byte(c.prefix + c.salt))
		h.Write([]byte{0})
		h.Write([]byte(c.number))
		for _, n := range []uint64{1, 7, 1000, 1 << 40} {
			if got, want := drawSalted(c.number, c.prefix, c.salt, n), h.Sum64()%n; got != want {
				t.Errorf("drawSalted(%q, %q, %q, %d) = %d; want %d", c.number, c.prefix, c.salt, n, got, want)
			}
		}
		if c.prefix == "" && draw(c.number, c.salt, 1000) != h.Sum64()%1000 {
			t.Errorf("draw(%q, %q, 1000) differs from FNV-1a", c.number, c.salt)
		}
	}
}
