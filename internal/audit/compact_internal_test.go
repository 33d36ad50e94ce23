package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// dict is an in-memory dictionary for the compact form's tests.
type dict struct {
	ids   map[string]uint64
	names []string
	max   int // names it takes at most; 0 for any number
}

func (d *dict) id(b []byte) (uint64, bool) {
	s := string(b)
	if id, ok := d.ids[s]; ok {
		return id, true
	}
	if d.max > 0 && len(d.names) >= d.max {
		return 0, false
	}
	if d.ids == nil {
		d.ids = map[string]uint64{}
	}
	d.names = append(d.names, s)
	d.ids[s] = uint64(len(d.names))
	return uint64(len(d.names)), true
}

func (d *dict) name(id uint64) (string, error) {
	if id == 0 || id > uint64(len(d.names)) {
		return "", fmt.Errorf("no name %d", id)
	}
	return d.names[id-1], nil
}

// drawRecord draws a record as prepare lets it through, with texts of every kind:
// unicode, escapes, digits with leading zeros, empty and nil lists.
func drawRecord(t *rapid.T) Record {
	text := rapid.OneOf(rapid.String(), rapid.StringMatching(`[0-9]{1,22}`), rapid.SampledFrom([]string{"", "FUND", "a<b>&c", "\u2028", "\x00"}))
	list := rapid.OneOf(rapid.Just([]string(nil)), rapid.SliceOfN(text, 0, 5))
	req := rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "request")
	resp := rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, "response")
	r := Record{
		Time:          time.Unix(rapid.Int64Range(minUnix, maxUnix).Draw(t, "secs"), rapid.Int64Range(0, 1e9-1).Draw(t, "nanos")).UTC(),
		Client:        text.Draw(t, "client"),
		MessageID:     text.Draw(t, "message_id"),
		Institution:   text.Draw(t, "institution"),
		Service:       text.Draw(t, "service"),
		Purpose:       text.Draw(t, "purpose"),
		Persons:       list.Draw(t, "persons"),
		Fields:        list.Draw(t, "fields"),
		Decision:      rapid.SampledFrom([]string{Permit, Deny}).Draw(t, "decision"),
		Reasons:       list.Draw(t, "reasons"),
		Authorization: text.Draw(t, "authorization"),
		Outcome:       text.Draw(t, "outcome"),
		Status:        rapid.Int().Draw(t, "status"),
		LatencyMicros: rapid.Int64().Draw(t, "latency"),
		RequestHash:   fmt.Sprintf("%x", req),
		ResponseHash:  fmt.Sprintf("%x", resp),
	}
	b := BindingHash([32]byte(req), [32]byte(resp))
	r.Binding = fmt.Sprintf("%x", b)
	return r
}

// TestCompactRoundTrip: the compact form of any record the log writes expands to its
// canonical bytes exactly (the tree hashes them), with a dictionary, a full one, or none.
func TestCompactRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := drawRecord(t)
		r.Seq = rapid.Int64Range(1, math.MaxInt64).Draw(t, "seq")
		canonical, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		d := &dict{max: rapid.IntRange(0, 4).Draw(t, "dict size")}
		var namer Namer = d.id
		if rapid.Bool().Draw(t, "no dictionary") {
			namer = nil
		}
		packed, ok := Compact(nil, r.Seq, canonical, namer)
		if !ok {
			t.Fatalf("Compact(%q) refused a record the log writes", canonical)
		}
		got, err := Expand(nil, r.Seq, packed, d.name)
		if err != nil || !bytes.Equal(got, canonical) {
			t.Fatalf("Expand(Compact(%q)) = %q, %v", canonical, got, err)
		}
		persons, err := StoredPersons(packed)
		if err != nil || fmt.Sprint(persons) != fmt.Sprint(r.Persons) || (persons == nil) != (r.Persons == nil) && len(r.Persons) > 0 {
			t.Fatalf("StoredPersons = %q, %v; want %q", persons, err, r.Persons)
		}
	})
}

// TestCompactRefuses: bytes that are not exactly what the log writes stay JSON.
func TestCompactRefuses(t *testing.T) {
	r := Record{Seq: 3, Time: time.Date(2026, 12, 7, 1, 2, 3, 4, time.UTC), Decision: Permit, Outcome: "answered",
		RequestHash: HashHex([]byte("a")), ResponseHash: HashHex([]byte("b"))}
	good, _ := json.Marshal(&r)
	for _, bad := range []string{
		"", "{}", "null", string(good[:len(good)-1]), string(good) + " ",
		`{"seq": 3` + string(good[len(`{"seq":3`):]), // a space
		`{"seq":03` + string(good[len(`{"seq":3`):]), // a leading zero
		string(bytes.Replace(good, []byte(`"time":"2026-12-07T01:02:03.000000004Z"`), []byte(`"time":"2026-12-07T02:02:03.000000004+01:00"`), 1)),
		string(bytes.Replace(good, []byte(`"client":""`), []byte(`"client":"\u0041"`), 1)), // "A", spelled otherwise
	} {
		if packed, ok := Compact(nil, 3, []byte(bad), nil); ok {
			t.Errorf("Compact(%q) = %x, true; want false", bad, packed)
		}
	}
	if _, ok := Compact(nil, 4, good, nil); ok {
		t.Errorf("Compact(record 3 as seq 4) = true; want false")
	}
	if _, ok := Compact(nil, 3, good, nil); !ok {
		t.Errorf("Compact(%q) = false; want true", good)
	}
}

// TestExpandDamaged: a damaged compact record is an error, or bytes of another record,
// never a panic (FuzzExpand runs it on any bytes).
func TestExpandDamaged(t *testing.T) {
	r := Record{Seq: 9, Time: time.Date(2026, 12, 7, 1, 2, 3, 4, time.UTC), Client: "app", Institution: "FUND",
		Persons: []string{"85073003328"}, Decision: Permit, Outcome: "answered",
		RequestHash: HashHex([]byte("a")), ResponseHash: HashHex([]byte("b"))}
	r.Binding = func() string {
		b := BindingHash(mustHash(r.RequestHash), mustHash(r.ResponseHash))
		return fmt.Sprintf("%x", b)
	}()
	good, _ := json.Marshal(&r)
	d := &dict{}
	packed, ok := Compact(nil, 9, good, d.id)
	if !ok {
		t.Fatalf("Compact(%q) = false", good)
	}
	for n := 1; n < len(packed); n++ { // 0 bytes are not compact: they stay as they are
		if _, err := Expand(nil, 9, packed[:n], d.name); err == nil {
			t.Errorf("Expand(first %d of %d bytes) = nil error", n, len(packed))
		}
	}
	if _, err := Expand(nil, 9, append(packed, 0), d.name); err == nil {
		t.Errorf("Expand(a byte too many) = nil error")
	}
	if _, err := Expand(nil, 9, packed, (&dict{}).name); err == nil {
		t.Errorf("Expand(without the names) = nil error")
	}
	if _, err := Expand(nil, 9, packed, nil); err == nil {
		t.Errorf("Expand(no dictionary) = nil error")
	}
}

func mustHash(s string) [32]byte {
	h, err := parseHash("hash", s)
	if err != nil {
		panic(errors.New(s))
	}
	return h
}

// FuzzExpand: any stored bytes expand to an error or to bytes, never a panic; any bytes
// Compact packs expand back to themselves.
func FuzzExpand(f *testing.F) {
	r := Record{Seq: 5, Time: time.Date(2026, 12, 7, 1, 2, 3, 4, time.UTC), Client: "app", MessageID: "m-1",
		Persons: []string{"85073003328", "x"}, Fields: []string{}, Decision: Deny, Outcome: "refused",
		RequestHash: HashHex([]byte("a")), ResponseHash: HashHex([]byte("b")), Binding: HashHex(nil)}
	good, _ := json.Marshal(&r)
	d := &dict{max: 2}
	packed, _ := Compact(nil, 5, good, d.id)
	f.Add(good)
	f.Add(packed)
	f.Fuzz(func(t *testing.T, b []byte) {
		d := &dict{max: 3}
		if p, ok := Compact(nil, 5, b, d.id); ok {
			got, err := Expand(nil, 5, p, d.name)
			if err != nil || !bytes.Equal(got, b) {
				t.Fatalf("Expand(Compact(%q)) = %q, %v", b, got, err)
			}
		}
		out, err := Expand(nil, 5, b, d.name)
		if err == nil && IsCompact(b) && !json.Valid(out) {
			t.Fatalf("Expand(%x) = %q: not JSON", b, out)
		}
		StoredPersons(b)
	})
}
