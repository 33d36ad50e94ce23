package oauth

import (
	"context"
	"testing"
)

// BenchmarkVerify measures the hot path: a token already seen (cached), and the full
// check of one never seen (uncached: parse, Ed25519 verification, claims). Both include
// the cached application-status check.
func BenchmarkVerify(b *testing.B) {
	h := newHub(b)
	tok := h.issue(b, "registry.search directory.read")
	ctx := context.Background()
	run := func(noCache bool) func(b *testing.B) {
		return func(b *testing.B) {
			h.srv.noCache = noCache
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.srv.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("cached", run(false))
	b.Run("uncached", run(true))
	b.Run("cached-parallel", func(b *testing.B) {
		h.srv.noCache = false
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := h.srv.Verify(ctx, tok); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkTokenSecret measures issuing a token for a client secret (two store reads and
// one signature).
func BenchmarkTokenSecret(b *testing.B) {
	h := newHub(b)
	r := secretPost("app-secret", h.secrets["app-secret"])
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.srv.Token(ctx, r.form, "", "", ""); err != nil {
			b.Fatal(err)
		}
	}
}
