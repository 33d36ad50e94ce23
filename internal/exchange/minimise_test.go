package exchange

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestMinimise(t *testing.T) {
	rec := map[string]any{"@type": "Person", "person": "85073003328", "given_name": "Ann", "death_date": "2020-01-01",
		"address": map[string]any{"street": "Main", "postal_code": "1000", "region": "R01"}}
	tests := []struct {
		fields []string
		want   string
	}{
		{[]string{"given_name"}, `{"@type":"Person","given_name":"Ann"}`},
		{[]string{"given_name", "address.street"}, `{"@type":"Person","address":{"street":"Main"},"given_name":"Ann"}`},
		{[]string{"address"}, `{"@type":"Person","address":{"postal_code":"1000","region":"R01","street":"Main"}}`},
		{[]string{"address.house_number"}, `{"@type":"Person"}`},
		{nil, `{"@type":"Person"}`},
		{[]string{"given_name.first"}, `{"@type":"Person"}`},
	}
	for _, tt := range tests {
		b, _ := json.Marshal(Minimise(rec, tt.fields))
		if string(b) != tt.want {
			t.Errorf("Minimise(%v) = %s; want %s", tt.fields, b, tt.want)
		}
	}
}

func TestMinimiseJSON(t *testing.T) {
	rec := `{"@type":"Person","person":"85073003328","given_name":"Ann","death_date":"2020-01-01",` +
		`"address":{"street":"Main","postal_code":"1000","region":"R01"},"given_name":"Anna","n\u00e9":null}`
	tests := []struct {
		fields []string
		want   string
	}{
		{[]string{"given_name"}, `{"@type":"Person","given_name":"Anna"}`},
		{[]string{"given_name", "address.street"}, `{"@type":"Person","address":{"street":"Main"},"given_name":"Anna"}`},
		{[]string{"address"}, `{"@type":"Person","address":{"street":"Main","postal_code":"1000","region":"R01"}}`},
		{[]string{"address.house_number"}, `{"@type":"Person"}`},
		{[]string{"given_name.first", "né"}, `{"@type":"Person","né":null}`},
	}
	for _, tt := range tests {
		got, ok := MinimiseJSON([]byte(rec), tt.fields)
		if !ok || string(got) != tt.want {
			t.Errorf("MinimiseJSON(%v) = %s %v; want %s", tt.fields, got, ok, tt.want)
		}
	}
	if _, ok := MinimiseJSON([]byte(`[1]`), nil); ok {
		t.Error("MinimiseJSON accepted an array")
	}
}

// FuzzMinimiseJSON checks that minimising the JSON of a record gives the same record as
// decoding it and minimising the map.
func FuzzMinimiseJSON(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"c":2,"d":[3]},"@t":"x","a":{"c":1}}`), "a,b.c")
	f.Add([]byte(`{"x":{"y":{"z":1,"w":2}},"q":"\u2028"}`), "x.y.z,q")
	f.Add([]byte(`{}`), "")
	f.Fuzz(func(t *testing.T, b []byte, list string) {
		if !json.Valid(b) {
			return
		}
		fields := strings.Split(list, ",")
		got, ok := MinimiseJSON(b, fields)
		var m map[string]any
		if json.Unmarshal(b, &m) != nil || m == nil {
			if ok && !bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
				t.Fatalf("MinimiseJSON(%s) took a non-object", b)
			}
			return
		}
		if !ok {
			t.Fatalf("MinimiseJSON(%s) refused an object", b)
		}
		var back map[string]any
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("MinimiseJSON(%s, %q) = %s, not JSON: %v", b, fields, got, err)
		}
		want := Minimise(m, fields)
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("MinimiseJSON(%s, %q) = %s; Minimise gives %v", b, fields, got, want)
		}
	})
}

// FuzzMinimiser holds the Minimiser to MinimiseJSON, byte for byte, over several
// records in a row (its remembered verdicts must not leak from one to the next).
func FuzzMinimiser(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"c":2,"d":[3]},"@t":"x","a":{"c":1}}`), []byte(`{"b":{"d":1},"e":2}`), "a,b.c")
	f.Add([]byte(`{"x":{"y":{"z":1,"w":2}},"q":"\u2028"}`), []byte(`{"x":{"y":5}}`), "x.y.z,q")
	f.Add([]byte(`{"address":{"street":"s","region":"r"},"person":"1"}`), []byte(`{"address":{}}`), "address.street,person")
	f.Fuzz(func(t *testing.T, a, b []byte, list string) {
		fields := strings.Split(list, ",")
		m := NewMinimiser(fields)
		var dst []byte
		for _, rec := range [][]byte{a, b, a} {
			if !json.Valid(rec) {
				continue
			}
			want, wok := MinimiseJSON(rec, fields)
			at := len(dst)
			var ok bool
			dst, ok = m.Append(dst, rec)
			if ok != wok || !bytes.Equal(dst[at:], want) {
				t.Fatalf("Minimiser.Append(%s, %q) = %s, %v; MinimiseJSON: %s, %v", rec, fields, dst[at:], ok, want, wok)
			}
		}
	})
}
