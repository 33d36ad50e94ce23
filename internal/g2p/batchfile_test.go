package g2p

import (
	"context"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// TestParseBatchCSV: the published columns in any order; a bad line is its own verdict
// and the others are read; a wrong header refuses the file.
func TestParseBatchCSV(t *testing.T) {
	f := newFixture(t)
	file := "mobile,account,person,name,birth_date\n" +
		"+999470000001," + f.account("50030100170") + ",50030100170,,\n" +
		"+999470000002,XC00,65010100576,,\n" + // read; refused later (account)
		"+999470000003\n" + // too few values
		"+999470000004," + f.account("50030100170") + ",,Maria Peeters,1950-03-01\n" +
		"+999470000005," + f.account("50030100170") + ",,Maria Peeters,01/03/1950\n" +
		"\"+999\"470000006,x,y,z,w\n" // a bare quote
	lines, err := ParseBatch(strings.NewReader(file), FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		line int
		err  string
	}{{2, ""}, {3, ""}, {4, "1 values"}, {5, ""}, {6, "birth_date"}, {7, "quote"}}
	if len(lines) != len(want) {
		t.Fatalf("%d lines: %+v", len(lines), lines)
	}
	for i, w := range want {
		got := ""
		if lines[i].Err != nil {
			got = lines[i].Err.Error()
		}
		if lines[i].Line != w.line || (w.err == "") != (got == "") || !strings.Contains(got, w.err) {
			t.Errorf("line %d: %d %q; want line %d, error with %q", i, lines[i].Line, got, w.line, w.err)
		}
	}
	if a := lines[3].App; a.Name != "Maria Peeters" || a.BirthDate != 19500301 || a.Person != "" {
		t.Errorf("line 5: %+v", a)
	}
	for _, head := range []string{"person,mobile,account\n", "person,name,birth_date,mobile,account,iban\n", "person,person,name,birth_date,mobile,account\n", ""} {
		if _, err := ParseBatch(strings.NewReader(head+"x\n"), FormatCSV); fault.KindOf(err) != fault.Invalid || !strings.Contains(err.Error(), "header") {
			t.Errorf("header %q: %v; want the file refused naming the header", head, err)
		}
	}
}

// TestRegisterFile: a file of many, CSV and JSON lines: a verdict per line, the bad
// lines (unreadable, invalid, refused) never stopping the good ones nor half applied.
func TestRegisterFile(t *testing.T) {
	for _, format := range []string{FormatCSV, FormatJSON} {
		f := newFixture(t)
		var file string
		if format == FormatCSV {
			file = strings.Join(CSVColumns, ",") + "\n" +
				"50030100170,,," + Mobile("50030100170") + "," + f.account("50030100170") + "\n" +
				"not a line\n" +
				"65010100576,,," + Mobile("65010100576") + "," + f.account("65010100576") + "\n" +
				",Maria Peeters,1950-03-01," + Mobile("50030100170") + "," + f.account("50030100170") + "\n"
		} else {
			file = `{"person":"50030100170","mobile":"` + Mobile("50030100170") + `","account":"` + f.account("50030100170") + `"}` + "\n" +
				`{"person": oops}` + "\n" +
				`{"person":"65010100576","mobile":"` + Mobile("65010100576") + `","account":"` + f.account("65010100576") + `"}` + "\n" +
				`{"name":"Maria Peeters","birth_date":"1950-03-01","mobile":"` + Mobile("50030100170") + `","account":"` + f.account("50030100170") + `"}` + "\n"
		}
		lines, err := ParseBatch(strings.NewReader(file), format)
		if err != nil {
			t.Fatal(err)
		}
		res, err := f.s.RegisterLines(context.Background(), lines, "sw-1", 2)
		if err != nil {
			t.Fatal(err)
		}
		status := func(i int) string {
			if res[i].Registration == nil {
				return "error: " + res[i].Error
			}
			return res[i].Registration.Status
		}
		if len(res) != 4 || status(0) != Registered || !strings.HasPrefix(status(1), "error: ") || status(2) != Ineligible || !strings.Contains(status(3), "same person") {
			t.Errorf("%s: %q %q %q %q", format, status(0), status(1), status(2), status(3))
		}
		if b, _ := f.s.Store.Beneficiary(context.Background(), "65010100576"); b.Person != "" {
			t.Errorf("%s: the ineligible applicant is on the list", format)
		}
		if f.hub.files["65010100576"] || !f.hub.files["50030100170"] {
			t.Errorf("%s: files open after the batch: %v; want the registered one's only", format, f.hub.files)
		}
		if ms, _ := f.s.Store.Resolve(context.Background(), []string{"65010100576"}); len(ms) != 0 {
			t.Errorf("%s: the ineligible applicant's account is linked", format)
		}
	}
}

func FuzzParseBatch(f *testing.F) {
	f.Add("person,name,birth_date,mobile,account\n50030100170,,,+999470000001,XC00\n", true)
	f.Add("mobile,account,person,name,birth_date\n\"a\"\"b\",,,,\n,,,,\n", true)
	f.Add("person,name\n", true)
	f.Add(`{"person":"50030100170","mobile":"+999470000001","account":"XC00"}`+"\n{}\n{\"x\":1}\n", false)
	f.Add(`[{"person":"50030100170"}]`, false)
	f.Fuzz(func(t *testing.T, s string, csv bool) {
		format := FormatJSON
		if csv {
			format = FormatCSV
		}
		lines, err := ParseBatch(strings.NewReader(s), format)
		if err != nil {
			if k := fault.KindOf(err); k != fault.Invalid && k != fault.TooLarge {
				t.Fatalf("ParseBatch(%q) = %v: not a refusal naming the input", s, err)
			}
			return
		}
		last := 0
		for _, l := range lines {
			if l.Line <= last && !(format == FormatJSON && strings.HasPrefix(strings.TrimSpace(s), "[")) {
				t.Fatalf("ParseBatch(%q): line numbers not increasing: %d after %d", s, l.Line, last)
			}
			last = l.Line
			if l.Err != nil && fault.KindOf(l.Err) != fault.Invalid {
				t.Fatalf("ParseBatch(%q): line %d: %v", s, l.Line, l.Err)
			}
		}
	})
}

// The errors of a file of applicants speak of the file, never of the program's types or
// the reader's end (outsider findings).
func TestParseBatchSays(t *testing.T) {
	lines, err := ParseBatch(strings.NewReader(`[1, {"person": 5}, {"person":"50030100170","mobile":"+999470123456","account":"x"}]`), FormatJSON)
	if err != nil || len(lines) != 3 {
		t.Fatalf("a JSON array with bad items: %v, %v; want a verdict per item", lines, err)
	}
	for _, l := range lines[:2] {
		if l.Err == nil || strings.Contains(l.Err.Error(), "g2p.") || strings.Contains(l.Err.Error(), "Go ") {
			t.Errorf("item %d: %v; want an error in the file's terms", l.Line, l.Err)
		}
	}
	if lines[2].Err != nil {
		t.Errorf("a good item: %v", lines[2].Err)
	}
	if _, err := ParseBatch(strings.NewReader(""), FormatCSV); err == nil || strings.Contains(err.Error(), "EOF") || !strings.Contains(err.Error(), "empty") {
		t.Errorf("an empty CSV file: %v; want it said empty, not EOF", err)
	}
}
