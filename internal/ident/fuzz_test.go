package ident

import (
	"errors"
	"testing"
)

func FuzzParsePerson(f *testing.F) {
	for _, tt := range validPersons {
		f.Add(tt.in)
	}
	for _, tt := range invalidPersons {
		f.Add(tt.in)
	}
	f.Add("BE 85.07.30-033.28")
	f.Add("\xff85073003328")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePerson(s)
		if ok := ValidPerson(s); ok != (err == nil) {
			t.Fatalf("ValidPerson(%q) = %t; ParsePerson = %v", s, ok, err)
		}
		if err != nil {
			checkFuzzError(t, "ParsePerson", s, err)
			return
		}
		for _, form := range []string{p.String(), p.Format()} {
			if q, err := ParsePerson(form); err != nil || q != p {
				t.Fatalf("ParsePerson(%q) = %v, %v; want %v", form, q, err, p)
			}
		}
		y, m, d := p.BirthDate()
		if q, err := MakePerson(y, m, d, p.Sequence(), p.Kind()); err != nil || q != p {
			t.Fatalf("MakePerson(%d, %d, %d, %d, %v) = %v, %v; want %v", y, m, d, p.Sequence(), p.Kind(), q, err, p)
		}
	})
}

func FuzzParseEnterprise(f *testing.F) {
	for _, tt := range invalidEnterprises {
		f.Add(tt.in)
	}
	for _, s := range []string{"0403170701", "BE 0403.170.701", "2.123.456.791", "be", "bE1999999943"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseEnterprise(s)
		if ok := ValidEnterprise(s); ok != (err == nil) {
			t.Fatalf("ValidEnterprise(%q) = %t; ParseEnterprise = %v", s, ok, err)
		}
		if err != nil {
			checkFuzzError(t, "ParseEnterprise", s, err)
		} else {
			for _, form := range []string{n.String(), n.Format(), "BE" + n.String()} {
				if m, err := ParseEnterprise(form); err != nil || m != n {
					t.Fatalf("ParseEnterprise(%q) = %v, %v; want %v", form, m, err, n)
				}
			}
		}
		u, err := ParseEstablishment(s)
		if ok := ValidEstablishment(s); ok != (err == nil) {
			t.Fatalf("ValidEstablishment(%q) = %t; ParseEstablishment = %v", s, ok, err)
		}
		if err != nil {
			checkFuzzError(t, "ParseEstablishment", s, err)
			return
		}
		for _, form := range []string{u.String(), u.Format()} {
			if m, err := ParseEstablishment(form); err != nil || m != u {
				t.Fatalf("ParseEstablishment(%q) = %v, %v; want %v", form, m, err, u)
			}
		}
	})
}

// checkFuzzError asserts that a parse error names its field and input.
func checkFuzzError(t *testing.T, fn, s string, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Field == "" || e.Msg == "" || e.Input != s {
		t.Fatalf("%s(%q) = %#v; want *Error with field, message and input", fn, s, err)
	}
}
