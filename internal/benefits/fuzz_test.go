package benefits_test

import (
	"testing"

	"github.com/crossroads-hub/crossroads/internal/benefits"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

func TestParseInput(t *testing.T) {
	for _, c := range []struct {
		in, field string
	}{
		{`{"person":"` + holder + `","right":"social-energy-tariff","reference":"R-1","benefit":"tariff","from":"2026-12-01"}`, ""},
		{`{"action":"end","reference":"R-1","until":"2027-01-31"}`, ""},
		{`{"action":"end","reference":"R-1"}`, "until"},
		{`{"action":"drop","reference":"R-1"}`, "action"},
		{`{"person":"1","right":"x","reference":"R","benefit":"b","from":"2026-12-01"}`, "person"},
		{`{"person":"` + holder + `","right":"x","reference":"","benefit":"b","from":"2026-12-01"}`, "reference"},
		{`{"person":"` + holder + `","right":"x","reference":"R","benefit":"b"}`, "from"},
		{`{"person":"` + holder + `","right":"x","reference":"R","benefit":"b","from":"2026-12-01","until":"2026-11-01"}`, "until"},
		{`{"person":"` + holder + `","right":"x","reference":"R","benefit":"b","from":"2026-13-01"}`, "body"},
		{`{"extra":1}`, "body"},
		{`{} {}`, "body"},
		// A member twice: refused, not the last one taken (encoding/json matches names
		// without regard to case, so "From" is "from" too).
		{`{"person":"` + holder + `","right":"x","reference":"R","benefit":"b","from":"2026-12-01","from":"2026-12-02"}`, "from"},
		{`{"person":"` + holder + `","right":"x","reference":"R","benefit":"b","from":"2026-12-01","From":"2126-12-01"}`, "from"},
		{`{"person":"` + holder + `","person":"` + holder + `","right":"x","reference":"R","benefit":"b","from":"2026-12-01"}`, "person"},
		{`{"action":"end","reference":"R-1","until":"2027-01-31","reference":"R-2"}`, "reference"},
	} {
		_, err := benefits.ParseInput([]byte(c.in))
		got := ""
		if fe, ok := err.(*fault.Error); ok {
			got = fe.Field
		} else if err != nil {
			got = "?" + err.Error()
		}
		if got != c.field {
			t.Errorf("ParseInput(%q) = %v; want a refusal naming %q", c.in, err, c.field)
		}
	}
}

func FuzzParseInput(f *testing.F) {
	f.Add([]byte(`{"person":"` + holder + `","right":"social-energy-tariff","reference":"R-1","benefit":"tariff","from":"2026-12-01"}`))
	f.Add([]byte(`{"action":"end","reference":"R-1","until":"2027-01-31"}`))
	f.Add([]byte(`{"action":"correct","person":"x","from":"2026-02-30"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"action":"end","reference":"R-1","until":"2027-01-31","Until":"2027-02-01"}`))
	f.Add([]byte(`{"reference":"R-1","refer\u0065nce":"R-2"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := benefits.ParseInput(b)
		if err != nil {
			if fault.KindOf(err) != fault.Invalid && fault.KindOf(err) != fault.TooLarge {
				t.Fatalf("ParseInput: %v; want an invalid input", err)
			}
			return
		}
		if in.Reference == "" || len(in.Reference) > benefits.MaxReference {
			t.Fatalf("ParseInput accepted reference %q", in.Reference)
		}
		if in.Action != benefits.Ended && (in.From.IsZero() || (!in.Until.IsZero() && in.Until < in.From)) {
			t.Fatalf("ParseInput accepted dates %v–%v", in.From, in.Until)
		}
	})
}
