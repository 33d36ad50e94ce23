package audit_test

import (
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
)

// BenchmarkCompact packs an exchange record (audittest.Exchange) with a dictionary
// that knows its texts, as a store does once warm; BenchmarkExpand rebuilds it.
func BenchmarkCompact(b *testing.B) {
	canonical, names := exchangeRecord(b)
	ids := map[string]uint64{}
	for i, s := range names {
		ids[s] = uint64(i)
	}
	namer := func(s []byte) (uint64, bool) { id, ok := ids[string(s)]; return id, ok }
	var buf []byte
	b.SetBytes(int64(len(canonical)))
	for b.Loop() {
		var ok bool
		if buf, ok = audit.Compact(buf[:0], 7, canonical, namer); !ok {
			b.Fatal("Compact refused an exchange record")
		}
	}
	b.ReportMetric(float64(len(buf)), "compact-B")
}

func BenchmarkExpand(b *testing.B) {
	canonical, names := exchangeRecord(b)
	ids := map[string]uint64{}
	for i, s := range names {
		ids[s] = uint64(i)
	}
	packed, _ := audit.Compact(nil, 7, canonical, func(s []byte) (uint64, bool) { id, ok := ids[string(s)]; return id, ok })
	nameOf := func(id uint64) (string, error) { return names[id], nil }
	var buf []byte
	b.SetBytes(int64(len(canonical)))
	for b.Loop() {
		var err error
		if buf, err = audit.Expand(buf[:0], 7, packed, nameOf); err != nil {
			b.Fatal(err)
		}
	}
}

// exchangeRecord returns the canonical bytes of an exchange record as seq 7 and the
// texts a dictionary would hold.
func exchangeRecord(b *testing.B) ([]byte, []string) {
	r := audittest.Exchange(7)
	r.Seq = 7
	// The binding is what prepare fills in: the hash of both hashes.
	var req, resp [32]byte
	hex.Decode(req[:], []byte(r.RequestHash))
	hex.Decode(resp[:], []byte(r.ResponseHash))
	bind := audit.BindingHash(req, resp)
	r.Binding = hex.EncodeToString(bind[:])
	canonical, err := json.Marshal(r)
	if err != nil {
		b.Fatal(err)
	}
	names := []string{r.Client, r.Institution, r.Service, r.Purpose, r.Decision, r.Authorization, r.Outcome}
	names = append(append(names, r.Fields...), r.Reasons...)
	return canonical, names
}
