package employment_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/derived"
	"github.com/crossroads-hub/crossroads/internal/employment"
)

func TestEventsAreTheSocialRegistrys(t *testing.T) {
	if employment.EventStart != derived.EventEmploymentStart || employment.EventEnd != derived.EventEmploymentEnd {
		t.Fatalf("employment's events %q, %q are not derived's %q, %q", employment.EventStart, employment.EventEnd,
			derived.EventEmploymentStart, derived.EventEmploymentEnd)
	}
}

func TestQuarter(t *testing.T) {
	for _, c := range []struct {
		in         string
		start, end date.Date
		days       int
	}{
		{"2026Q1", date.Of(2026, 1, 1), date.Of(2026, 3, 31), 90},
		{"2024Q1", date.Of(2024, 1, 1), date.Of(2024, 3, 31), 91},
		{"2026Q3", date.Of(2026, 7, 1), date.Of(2026, 9, 30), 92},
		{"2026q4", date.Of(2026, 10, 1), date.Of(2026, 12, 31), 92},
	} {
		q, err := employment.ParseQuarter(c.in)
		if err != nil || q.Start() != c.start || q.End() != c.end || q.Days() != c.days {
			t.Errorf("ParseQuarter(%q) = %v %v–%v %d days, %v; want %v–%v %d", c.in, q, q.Start(), q.End(), q.Days(), err, c.start, c.end, c.days)
		}
		if employment.QuarterOf(c.end) != q {
			t.Errorf("QuarterOf(%v) = %v; want %v", c.end, employment.QuarterOf(c.end), q)
		}
	}
	for _, in := range []string{"", "2026", "2026Q5", "2026Q0", "26Q1", "2026-3", "abcdQ1", "2026Q12"} {
		if _, err := employment.ParseQuarter(in); err == nil {
			t.Errorf("ParseQuarter(%q) = nil error; want one", in)
		}
	}
}

// parseAll returns the lines read, and the rejected ones as "line:field".
func parseAll(t *testing.T, format, body string) (ok int, rejected []string, err error) {
	t.Helper()
	err = employment.Parse(strings.NewReader(body), format, func(p employment.Parsed) error {
		if p.Err != nil {
			if p.Err.Line != p.Line || p.Err.Verdict != employment.Rejected || p.Err.Reason == "" {
				t.Errorf("line %d: bad result %+v", p.Line, p.Err)
			}
			rejected = append(rejected, p.Err.Field)
			return nil
		}
		ok++
		return nil
	})
	return ok, rejected, err
}

func TestParseCSV(t *testing.T) {
	head := "person,employer,quarter,wages,bonus,days,hours,fraction,contribution\n"
	body := "\ufeff" + head +
		"90010100123,0300000016,2026Q3,100,0,10,10,1,01\r\n" +
		"\n" +
		"90010100123,0300000016,2026Q3,abc,0,10,10,1,01\n" +
		"90010100123,0300000016,2026Q3,100,0,10,10\n" +
		"\"90010100123,0300000016\n"
	ok, rej, err := parseAll(t, employment.CSV, body)
	if err != nil || ok != 1 || len(rej) != 3 || rej[0] != "wages" {
		t.Fatalf("Parse = %d read, rejected %q, %v; want 1 read, wages then 2 unreadable", ok, rej, err)
	}
	// Columns in another order are the same columns.
	ok, _, err = parseAll(t, employment.CSV, "employer,person,quarter,wages,bonus,days,hours,fraction,contribution\n0300000016,90010100123,2026Q3,1,0,1,1,1,\n")
	if err != nil || ok != 1 {
		t.Errorf("reordered columns: %d, %v", ok, err)
	}
}

func TestParseJSONLines(t *testing.T) {
	long := `{"person":"` + strings.Repeat("9", employment.MaxLine) + `"}`
	body := `{"person":"90010100123","employer":"0300000016","quarter":"2026Q3","wages":1,"bonus":0,"days":1,"hours":1,"fraction":1,"contribution":""}` + "\n" +
		`{"person":"90010100123","wages":"1"}` + "\n" +
		`{"quarter":"2026Q9"}` + "\n" +
		long + "\n" +
		`[1,2]` + "\n" +
		`{"person":"1"} {"person":"2"}` + "\n"
	ok, rej, err := parseAll(t, employment.JSONLines, body)
	if err != nil || ok != 1 || len(rej) != 5 || rej[0] != "wages" {
		t.Fatalf("Parse = %d read, rejected %q, %v", ok, rej, err)
	}
}

// FuzzParse feeds both parsers anything: they never fail on a line, report every line
// they cannot read with its number, and number lines in increasing order.
func FuzzParse(f *testing.F) {
	f.Add([]byte("person,employer,quarter,wages,bonus,days,hours,fraction,contribution\n90010100123,0300000016,2026Q3,100,0,10,10,1,01\n"), true)
	f.Add([]byte(`{"person":"90010100123","employer":"0300000016","quarter":"2026Q3","wages":1}`+"\n{\"x\":"), false)
	f.Add([]byte("\xff\xfe\n\"\n"), true)
	f.Fuzz(func(t *testing.T, body []byte, csv bool) {
		format := employment.JSONLines
		if csv {
			format = employment.CSV
		}
		last := 0
		err := employment.Parse(bytes.NewReader(body), format, func(p employment.Parsed) error {
			if p.Line <= last && !(csv && p.Line == last) {
				t.Fatalf("line %d after line %d", p.Line, last)
			}
			last = p.Line
			if p.Err != nil && (p.Err.Reason == "" || p.Err.Line != p.Line) {
				t.Fatalf("line %d: result %+v", p.Line, p.Err)
			}
			return nil
		})
		if err != nil && !csv {
			t.Fatalf("JSON lines: a file error %v; lines are judged one by one", err)
		}
	})
}
