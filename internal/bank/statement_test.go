package bank

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
)

func sampleStatement(t testing.TB) Statement {
	d, open, closed := demoBank(t)
	payer := ProgrammeAccount()
	_, err := d.Pay(context.Background(), []Instruction{
		{ID: "OAA-1", Payer: payer, Payee: open, Amount: 25000, Currency: "XCD", Day: today},
		{ID: "OAA-2", Payer: payer, Payee: closed, Amount: 12345, Currency: "XCD", Day: today},
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := d.Statement(context.Background(), payer, today)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func collect(parse func(r *bytes.Reader, fn func(Line) error) (StatementHead, error), b []byte) (StatementHead, []Line, error) {
	var ls []Line
	h, err := parse(bytes.NewReader(b), func(l Line) error { ls = append(ls, l); return nil })
	return h, ls, err
}

func parseCAMT(r *bytes.Reader, fn func(Line) error) (StatementHead, error) {
	return ParseCAMT053(r, fn)
}
func parseCSV(r *bytes.Reader, fn func(Line) error) (StatementHead, error) { return ParseCSV(r, fn) }

func TestStatementRoundTrip(t *testing.T) {
	st := sampleStatement(t)
	var x, c bytes.Buffer
	if err := WriteCAMT053(&x, st, "2026-12-07T10:00:00Z"); err != nil {
		t.Fatal(err)
	}
	if err := WriteCSV(&c, st); err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]struct {
		parse func(*bytes.Reader, func(Line) error) (StatementHead, error)
		b     []byte
	}{"camt.053": {parseCAMT, x.Bytes()}, "csv": {parseCSV, c.Bytes()}} {
		h, ls, err := collect(in.parse, in.b)
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, in.b)
		}
		if h.Account != st.Account || h.ID != st.ID {
			t.Errorf("%s: head = %+v; want %s %s", name, h, st.ID, st.Account)
		}
		if !reflect.DeepEqual(ls, st.Lines) {
			t.Errorf("%s: lines\n%+v\nwant\n%+v", name, ls, st.Lines)
		}
	}
}

func TestStatementBadInput(t *testing.T) {
	st := sampleStatement(t)
	var x, c bytes.Buffer
	WriteCAMT053(&x, st, "2026-12-07T10:00:00Z")
	WriteCSV(&c, st)
	xml, csv := x.String(), c.String()
	bad := []struct {
		name, in, want string
		parse          func(*bytes.Reader, func(Line) error) (StatementHead, error)
	}{
		{"camt no ref", strings.Replace(xml, "<EndToEndId>OAA-1</EndToEndId>", "", 1), "Ntry[1]", parseCAMT},
		{"camt amount", strings.Replace(xml, ">250.00<", ">25O.00<", 1), "Ntry[1]", parseCAMT},
		{"camt three places", strings.Replace(xml, ">250.00<", ">250.001<", 1), "amount", parseCAMT},
		{"camt truncated", xml[:len(xml)/2], "ends inside", parseCAMT},
		{"camt wrong end", strings.Replace(xml, "</Amt>", "</Amnt>", 1), "Ntry[1]", parseCAMT},
		{"camt bad iban", strings.Replace(xml, "<CdtrAcct><Id><IBAN>XC", "<CdtrAcct><Id><IBAN>XD", 1), "IBAN", parseCAMT},
		{"camt return without reason", strings.Replace(xml, "<RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf>", "", 1), "CdtDbtInd", parseCAMT},
		{"camt not xml", "{}", "Document", parseCAMT},
		{"camt deep", strings.Repeat("<a>", 100), "deeper", parseCAMT},
		{"csv header", strings.Replace(csv, "end_to_end_id", "ref", 1), "header", parseCSV},
		{"csv columns", strings.Replace(csv, ",booked,\n", ",booked,,\n", 1), "line 2", parseCSV},
		{"csv status", strings.Replace(csv, ",booked,\n", ",paid,\n", 1), "status", parseCSV},
		{"csv returned no reason", strings.Replace(csv, ",returned,AC04", ",returned,", 1), "reason", parseCSV},
		{"csv empty", strings.SplitAfter(csv, "\n")[0], "no lines", parseCSV},
	}
	for _, c := range bad {
		_, _, err := collect(c.parse, []byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v; want it to name %q", c.name, err, c.want)
		}
	}
}

func FuzzParseCAMT053(f *testing.F) {
	st := sampleStatement(f)
	var x bytes.Buffer
	WriteCAMT053(&x, st, "2026-12-07T10:00:00Z")
	f.Add(x.Bytes())
	f.Add([]byte("<Document><BkToCstmrStmt><Stmt><Ntry></Ntry></Stmt></BkToCstmrStmt></Document>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ls, err := collect(parseCAMT, b)
		if err != nil {
			return
		}
		// What is read writes back to what reads the same.
		var y bytes.Buffer
		if err := WriteCAMT053(&y, Statement{ID: h.ID, Account: h.Account, Lines: ls}, "t"); err != nil {
			t.Fatal(err)
		}
		h2, ls2, err := collect(parseCAMT, y.Bytes())
		if err != nil || h2 != h || !reflect.DeepEqual(ls, ls2) && len(ls)+len(ls2) > 0 {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, ls, ls2)
		}
	})
}

func FuzzParseCSV(f *testing.F) {
	st := sampleStatement(f)
	var c bytes.Buffer
	WriteCSV(&c, st)
	f.Add(c.Bytes())
	f.Add([]byte(strings.Join(CSVHeader, ",") + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ls, err := collect(parseCSV, b)
		if err != nil {
			return
		}
		var y bytes.Buffer
		if err := WriteCSV(&y, Statement{ID: h.ID, Account: h.Account, Lines: ls}); err != nil {
			t.Fatal(err)
		}
		h2, ls2, err := collect(parseCSV, y.Bytes())
		if err != nil || h2 != h || !reflect.DeepEqual(ls, ls2) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, ls, ls2)
		}
	})
}

func TestParseAmountSays(t *testing.T) {
	for _, c := range []struct{ in, says string }{
		{"-250.00", "negative"},
		{"250.001", "at most two places"},
		{"2a", "at most two places"},
	} {
		if _, err := ParseAmount(c.in); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("ParseAmount(%q) = %v; want an error saying %q", c.in, err, c.says)
		}
	}
	if v, err := ParseAmount("250.5"); err != nil || v != 25050 {
		t.Errorf("ParseAmount(250.5) = %d, %v", v, err)
	}
}
