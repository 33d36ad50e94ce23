package employment

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// decodeSlow is encoding/json's reading of a wage line, the reference.
func decodeSlow(line []byte) (WageLine, bool) {
	var w WageLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if dec.Decode(&w) != nil || dec.More() {
		return WageLine{}, false
	}
	w.File, w.Line, w.Replaced = 0, 0, false
	return w, true
}

func sameLine(a, b WageLine) bool {
	eq := func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }
	return a.Person == b.Person && a.Employer == b.Employer && a.Quarter == b.Quarter && a.Wages == b.Wages &&
		a.Bonus == b.Bonus && a.Days == b.Days && eq(a.Hours, b.Hours) && eq(a.Fraction, b.Fraction) && a.Contribution == b.Contribution
}

func TestDecodeFast(t *testing.T) {
	for _, c := range []struct {
		line string
		fast bool // read without encoding/json
	}{
		{`{"person":"90010100123","employer":"0300000016","quarter":"2026Q3","wages":1580910,"bonus":0,"days":65,"hours":494.5,"fraction":1,"contribution":"01"}`, true},
		{` {"person":"9001\u0030100123","wages":-0,"hours":1e2,"bonus":null} `, true},
		{`{"wages":1,"wages":2}`, true},
		{`{"wages":1.5}`, false},
		{`{"wages":1e3}`, false},
		{`{"wages":"1"}`, false},
		{`{"wages":99999999999999999999}`, false},
		{`{"Person":"90010100123"}`, false}, // encoding/json folds case: it decides
		{`{"file":3}`, false},
		{`{"quarter":null}`, false},
		{`{"quarter":"2026Q9"}`, false},
		{`{"person":1}`, false},
		{`{"x":1}`, false},
		{`[1]`, false},
		{`{"person":"1"} {"person":"2"}`, false},
		{`{"person":"1"`, false},
	} {
		var w WageLine
		fast := decodeFast([]byte(c.line), &w)
		if fast != c.fast {
			t.Errorf("decodeFast(%q) = %v; want %v", c.line, fast, c.fast)
			continue
		}
		if ref, ok := decodeSlow([]byte(c.line)); fast && (!ok || !sameLine(w, ref)) {
			t.Errorf("decodeFast(%q) = %+v; encoding/json reads %+v, %v", c.line, w, ref, ok)
		}
	}
}

// FuzzDecodeFast holds the fast reading of a line to encoding/json's: whatever it reads,
// encoding/json reads the same.
func FuzzDecodeFast(f *testing.F) {
	f.Add([]byte(`{"person":"90010100123","employer":"0300000016","quarter":"2026Q3","wages":1580910,"bonus":0,"days":65,"hours":494,"fraction":1,"contribution":"01"}`))
	f.Add([]byte(`{"person":"\ud800x","wages":-0,"hours":1E-2,"fraction":null}`))
	f.Add([]byte(`{"quarter":"2026q\u0033","days":3}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		var w WageLine
		if !decodeFast(line, &w) {
			return
		}
		ref, ok := decodeSlow(line)
		if !ok || !sameLine(w, ref) {
			t.Fatalf("decodeFast(%q) = %+v; encoding/json reads %+v, %v", line, w, ref, ok)
		}
	})
}
