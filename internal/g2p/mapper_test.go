package g2p

import (
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/bank"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

func TestParseFinancialAddress(t *testing.T) {
	a, _ := bank.DemoAccount("50030100170")
	for _, c := range []struct {
		fa, bank string
		ok       bool
	}{
		{"iban:" + string(a) + "@demo-bank", "demo-bank", true},
		{"IBAN:" + string(a) + "@demo-bank", "demo-bank", true},
		{string(a), "", true},
		{a.Print(), "", true},
		{"iban:" + string(a), "", false},                  // no bank
		{"iban:" + string(a) + "@", "", false},            // an empty bank
		{"iban:" + string(a) + "@demo-bank@x", "", false}, // two
		{"iban:" + string(a) + "@Demo Bank", "", false},   // not a code
		{"iban:" + string(a) + "@-x", "", false},          // not a code
		{"iban:" + string(a) + "@" + strings.Repeat("b", 5000), "", false},
		{"iban:XC00" + string(a[4:]) + "@demo-bank", "", false}, // check digits
		{"", "", false},
	} {
		got, provider, err := ParseFinancialAddress(c.fa)
		if (err == nil) != c.ok || provider != c.bank || (c.ok && got != a) {
			t.Errorf("ParseFinancialAddress(%q) = %q, %q, %v; want ok %v, bank %q", clip(c.fa), got, provider, err, c.ok, c.bank)
		}
		if err != nil && (fault.KindOf(err) != fault.Invalid || !strings.Contains(err.Error(), "fa")) {
			t.Errorf("ParseFinancialAddress(%q): %v; want invalid naming fa", clip(c.fa), err)
		}
	}
}

// The mapper takes accounts of the programme's bank only: another bank's would be
// linked and never paid.
func TestAccountOfAnotherBank(t *testing.T) {
	f := newFixture(t)
	a, _ := bank.DemoAccount("50030100170")
	if got, err := f.s.Account("iban:" + string(a) + "@" + f.s.BankCode); err != nil || got != a {
		t.Errorf("the programme's bank: %q, %v", got, err)
	}
	if _, err := f.s.Account("iban:" + string(a) + "@evil-bank"); fault.KindOf(err) != fault.Invalid || !strings.Contains(err.Error(), "evil-bank") {
		t.Errorf("another bank: %v; want invalid naming it", err)
	}
}

func FuzzParseFinancialAddress(f *testing.F) {
	a, _ := bank.DemoAccount("50030100170")
	for _, s := range []string{"iban:" + string(a) + "@demo-bank", string(a), "iban:@", "iban:" + string(a) + "@a@b", "IBAN:x@y", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, provider, err := ParseFinancialAddress(s)
		if err != nil {
			return
		}
		if len(s) > maxFA || (provider != "" && !bankCode(provider)) || strings.Contains(provider, "@") {
			t.Fatalf("ParseFinancialAddress(%q) = %q, %q: accepted a malformed address", s, got, provider)
		}
		again, p2, err := ParseFinancialAddress(FinancialAddress(got, "demo-bank"))
		if err != nil || again != got || p2 != "demo-bank" {
			t.Fatalf("round trip of %q: %q, %q, %v", got, again, p2, err)
		}
	})
}
