package bank

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"reflect"
	"testing"
)

// parseCAMT053Std is ParseCAMT053 over encoding/xml's tokens: the reference the fast
// reader (xmlscan.go) is compared with.
func parseCAMT053Std(r io.Reader, fn func(Line) error) (StatementHead, error) {
	c := &camtReader{fn: fn}
	d := xml.NewDecoder(r)
	d.Strict = true
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return c.head, c.where(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			ccy := ""
			for _, a := range t.Attr {
				if a.Name.Local == "Ccy" {
					ccy = a.Value
				}
			}
			err = c.start(t.Name.Local, ccy)
		case xml.CharData:
			err = c.chars(t)
		case xml.EndElement:
			err = c.end(t.Name.Local)
		}
		if err != nil {
			return c.head, err
		}
	}
	return c.finish()
}

// FuzzCAMT053Differential: on every input both readers take, they read the same
// statement; the fast one may refuse more (it is stricter), never read otherwise.
func FuzzCAMT053Differential(f *testing.F) {
	st := sampleStatement(f)
	var x bytes.Buffer
	WriteCAMT053(&x, st, "2026-12-07T10:00:00Z")
	f.Add(x.Bytes())
	f.Add([]byte(`<?xml version="1.0"?><!-- c --><D xmlns:c="u"><c:Stmt><Acct><Id><IBAN>XC68 0101 5003 0100 1700</IBAN></Id></Acct><Id>a&amp;b&#65;</Id></c:Stmt></D>`))
	f.Add([]byte(`<D><Stmt><Ntry><Amt Ccy='XCD'>1.5</Amt><![CDATA[x]]></Ntry></Stmt></D>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast, std []Line
		hf, errF := ParseCAMT053(bytes.NewReader(b), func(l Line) error { fast = append(fast, l); return nil })
		hs, errS := parseCAMT053Std(bytes.NewReader(b), func(l Line) error { std = append(std, l); return nil })
		if errF == nil && errS == nil && (hf != hs || !reflect.DeepEqual(fast, std)) {
			t.Fatalf("the readers differ on %q:\nfast %+v %+v\nstd  %+v %+v", b, hf, fast, hs, std)
		}
		if errF == nil && errS != nil {
			t.Logf("fast takes what encoding/xml refuses (%v): %q", errS, b)
		}
	})
}

func BenchmarkParseCAMT053(b *testing.B) {
	st := Statement{ID: "B", Account: ProgrammeAccount()}
	for i := range 10_000 {
		a, _ := DemoAccount(fmtPerson(i))
		st.Lines = append(st.Lines, Line{Ref: "OAA-2026-12-" + fmtPerson(i), BankRef: "R", Payee: a, Amount: 25000, Currency: "XCD", Booked: 20261225, Status: Booked})
	}
	var x bytes.Buffer
	WriteCAMT053(&x, st, "t")
	for _, p := range []struct {
		name  string
		parse func(io.Reader, func(Line) error) (StatementHead, error)
	}{{"fast", ParseCAMT053}, {"encoding-xml", parseCAMT053Std}} {
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(x.Len()))
			for b.Loop() {
				if _, err := p.parse(bytes.NewReader(x.Bytes()), func(Line) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(st.Lines))/b.Elapsed().Seconds(), "lines/s")
		})
	}
}

func fmtPerson(i int) string {
	s := "5000000000" + string(rune('0'+i%10))
	return s[:5] + string(rune('0'+i/1000%10)) + string(rune('0'+i/100%10)) + string(rune('0'+i/10%10)) + s[8:]
}
