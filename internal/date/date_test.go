package date

import (
	"encoding/json"
	"testing"
)

func TestStringAndParse(t *testing.T) {
	tests := []struct {
		d    Date
		want string
	}{{Of(2026, 11, 24), "2026-11-24"}, {Of(1, 2, 3), "0001-02-03"}, {0, ""}, {Max, "9999-12-31"}}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("Date(%d).String() = %q; want %q", tt.d, got, tt.want)
		}
		back, err := Parse(tt.want)
		if err != nil || back != tt.d {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.want, back, err, tt.d)
		}
	}
	for _, bad := range []string{"2026-02-30", "2026-13-01", "26-01-01", "2026/01/01", "x"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = nil error; want one", bad)
		}
	}
}

func TestJSONAndArithmetic(t *testing.T) {
	var v struct{ D Date }
	if err := json.Unmarshal([]byte(`{"D":"2024-02-28"}`), &v); err != nil || v.D.AddDays(1) != Of(2024, 2, 29) || v.D.AddDays(2) != Of(2024, 3, 1) {
		t.Errorf("unmarshal and AddDays = %v, %v", v.D, err)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"D":"2024-02-28"}` {
		t.Errorf("Marshal = %s", b)
	}
	if err := json.Unmarshal([]byte(`{"D":5}`), &v); err == nil {
		t.Errorf("Unmarshal of a number = nil error; want one")
	}
}
