package employmenttest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"io"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

// testBadLines: lines that cannot be read get a verdict of their own, in a file whose
// other lines are stored: wrong encodings (Latin-1, a UTF-16 file), a JSON line with a
// member missing or one too many, a CSV line with a field too many, a JSON line the
// file ends inside.
func testBadLines(t *testing.T, st Stores) {
	src := setup(t, st, 3)
	relations(t, st, 3)
	ok := line(Person(1), Acme, "2026Q3", 900000, 64, 480, 1)
	for _, c := range []struct {
		name, format, body string
		line               int // the line rejected
		reason             string
	}{
		{"latin-1", employment.JSONLines, ok + "\n" + strings.Replace(line(Person(2), Acme, "2026Q3", 1, 1, 1, 1), `"01"`, "\"0\xe9\"", 1) + "\n", 2, "UTF-8"},
		{"member missing", employment.JSONLines, ok + "\n" + strings.Replace(line(Person(2), Acme, "2026Q3", 1, 1, 1, 1), `"wages":1,`, "", 1) + "\n", 2, ""},
		{"member too many", employment.JSONLines, ok + "\n" + strings.Replace(line(Person(2), Acme, "2026Q3", 1, 1, 1, 1), `{`, `{"note":"x",`, 1) + "\n", 2, "not a member"},
		{"truncated json", employment.JSONLines, ok + "\n" + line(Person(2), Acme, "2026Q3", 1, 1, 1, 1)[:40], 2, "truncated"},
		{"csv field too many", employment.CSV, "person,employer,quarter,wages,bonus,days,hours,fraction,contribution\n" +
			Person(1) + "," + Acme + ",2026Q3,900000,0,64,480,1,01\n" + Person(2) + "," + Acme + ",2026Q3,1,0,1,1,1,01,x\n", 3, "fields"},
		{"csv latin-1", employment.CSV, "person,employer,quarter,wages,bonus,days,hours,fraction,contribution\n" +
			Person(1) + "," + Acme + ",2026Q3,900000,0,64,480,1,01\n" + Person(2) + "," + Acme + ",2026Q3,1,0,1,1,1,\xe9\n", 3, "UTF-8"},
	} {
		f, _, err := ingest(t, src, c.format, c.body, acmeOnly)
		if err != nil {
			t.Errorf("%s: Ingest: %v; want a file with one line rejected", c.name, err)
			continue
		}
		var got *employment.LineResult
		for i := range f.Report {
			if f.Report[i].Line == c.line {
				got = &f.Report[i]
			}
		}
		if f.Accepted != 1 || f.Rejected != 1 || got == nil || got.Verdict != employment.Rejected || !strings.Contains(got.Reason, c.reason) {
			t.Errorf("%s: %d accepted, %d rejected, line %d: %+v; want 1 and 1, rejected for %q", c.name, f.Accepted, f.Rejected, c.line, got, c.reason)
		}
	}
	// A UTF-16 file is no quarterly file: its header is not the columns.
	utf16 := []byte{0xff, 0xfe}
	for _, r := range "person,employer\n" {
		utf16 = append(utf16, byte(r), 0)
	}
	if _, _, err := ingest(t, src, employment.CSV, string(utf16), acmeOnly); err == nil {
		t.Error("a UTF-16 CSV file was taken")
	}
}

// testStreamed: a file of several chunks is checked across them (a duplicate of a line
// chunks before, rejected lines among accepted ones), its report in line order; a file
// whose reading fails midway stores nothing, the lines already written included.
func testStreamed(t *testing.T, st Stores) {
	ctx := context.Background()
	src := setup(t, st, 3)
	const n = 10_000
	workers := make([]string, n+1) // born on ten days: more than a day's 998 numbers
	var rels []employment.Relation
	for i := 1; i <= n; i++ {
		p, err := ident.MakePerson(1980, 3, 1+i/998, 1+i%998, ident.Register)
		if err != nil {
			t.Fatal(err)
		}
		workers[i] = p.String()
		rels = append(rels, employment.Relation{Person: workers[i], Employer: Acme, Start: date.Of(2020, 1, 1), End: date.Max,
			Contract: "permanent", Fraction: 1, Sector: "200"})
	}
	if err := st.Employment.PutRelations(ctx, rels); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := 1; i <= n; i++ {
		switch {
		case i%1000 == 0: // rejected: no relation with Other
			b.WriteString(line(workers[i], Other, "2026Q3", 100, 1, 1, 1))
		default:
			b.WriteString(line(workers[i], Acme, "2026Q3", 100, 1, 1, 1))
		}
		b.WriteByte('\n')
	}
	b.WriteString(line(workers[1], Acme, "2026Q3", 100, 1, 1, 1) + "\n") // line n+1 duplicates line 1
	f, _, err := ingest(t, src, employment.JSONLines, b.String(), acmeOnly)
	if err != nil {
		t.Fatal(err)
	}
	if f.Lines != n+1 || f.Accepted != n-10 || f.Rejected != 11 {
		t.Fatalf("%d lines, %d accepted, %d rejected; want %d, %d, 11", f.Lines, f.Accepted, f.Rejected, n+1, n-10)
	}
	for i := 1; i < len(f.Report); i++ {
		if f.Report[i].Line <= f.Report[i-1].Line {
			t.Fatalf("report out of order at %d: %+v", i, f.Report[i-1:i+1])
		}
	}
	if last := f.Report[len(f.Report)-1]; last.Line != n+1 || !strings.Contains(last.Reason, "duplicates line 1") {
		t.Errorf("last verdict %+v; want line %d a duplicate of line 1", last, n+1)
	}
	// A second file of the same quarter whose reading fails after a few chunks: nothing
	// of it is stored.
	var c strings.Builder
	for i := 1; i <= n; i++ {
		c.WriteString(line(workers[i], Acme, "2026Q3", 200, 1, 1, 1) + "\n")
	}
	body := []byte(c.String())
	sum := sha256.Sum256(body)
	_, _, err = src.Ingest(ctx, employment.Import{File: &failing{Reader: bytes.NewReader(body), after: len(body) * 3 / 4}, Hash: hex.EncodeToString(sum[:]),
		Format: employment.JSONLines, By: PayrollInst, May: acmeOnly})
	if err == nil {
		t.Fatal("a file whose reading failed was stored")
	}
	if _, ok, _ := st.Employment.File(ctx, hex.EncodeToString(sum[:])); ok {
		t.Error("the failed file is recorded")
	}
	ws, _ := st.Employment.WageLines(ctx, workers[2])
	if len(ws) != 1 || ws[0].Wages != 100 || ws[0].Replaced {
		t.Errorf("person 2's lines %+v; want the first file's only, in force", ws)
	}
}

// failing reads a file that fails after so many bytes.
type failing struct {
	*bytes.Reader
	after int
}

func (f *failing) Read(p []byte) (int, error) {
	pos := int(f.Reader.Size()) - f.Reader.Len()
	if pos >= f.after {
		return 0, errors.New("disk error")
	}
	if len(p) > f.after-pos {
		p = p[:f.after-pos]
	}
	return f.Reader.Read(p)
}

var _ io.ReadSeeker = (*failing)(nil)
