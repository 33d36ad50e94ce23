package iban

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	good := []struct{ in, want string }{
		{"GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"},
		{"gb82west12345698765432", "GB82WEST12345698765432"},
		{"IBAN DE89 3704 0044 0532 0130 00", "DE89370400440532013000"},
		{"BE68 5390 0754 7034", "BE68539007547034"},
		{"FR14 2004 1010 0505 0001 3M02 606", "FR1420041010050500013M02606"},
		{"NO93 8601 1117 947", "NO9386011117947"},
	}
	for _, c := range good {
		got, err := Parse(c.in)
		if err != nil || string(got) != c.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	bad := []struct {
		in   string
		want error
	}{
		{"", ErrEmpty},
		{"   ", ErrEmpty},
		{"GB82 WEST 1234 5698 7654 33", ErrChecksum},
		{"GB28 WEST 1234 5698 7654 32", ErrChecksum}, // check digits swapped
		{"GB82 WEST 1234 5698 7654 3", ErrLength},
		{"QQ82 WEST 1234 5698 7654 32", ErrCountry},
		{"G182WEST12345698765432", ErrChar},
		{"GBX2WEST12345698765432", ErrChar},
		{"GB82WEST1234569876543!", ErrChar},
		{"GB8", ErrLength},
		{strings.Repeat("9", 100), ErrLength},
	}
	for _, c := range bad {
		if got, err := Parse(c.in); !errors.Is(err, c.want) {
			t.Errorf("Parse(%q) = %q, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestMake(t *testing.T) {
	got, err := Make("GB", "WEST12345698765432")
	if err != nil || got != "GB82WEST12345698765432" {
		t.Fatalf("Make = %q, %v; want GB82WEST12345698765432", got, err)
	}
	x, err := Make("XC", "0010000000012345")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(x.Print()); err != nil {
		t.Errorf("Parse(%q) = %v", x.Print(), err)
	}
	if _, err := Make("XC", "12"); !errors.Is(err, ErrLength) {
		t.Errorf("Make(XC, 12) = %v; want %v", err, ErrLength)
	}
}

func TestEverySingleDigitChangeIsCaught(t *testing.T) {
	// MOD 97-10 catches every substitution of one character.
	const good = "DE89370400440532013000"
	for i := 2; i < len(good); i++ {
		for c := byte('0'); c <= '9'; c++ {
			if c == good[i] {
				continue
			}
			b := []byte(good)
			b[i] = c
			if _, err := Parse(string(b)); err == nil {
				t.Errorf("Parse(%q) = nil; want an error", b)
			}
		}
	}
}

func TestPrintMasked(t *testing.T) {
	i := IBAN("GB82WEST12345698765432")
	if got := i.Print(); got != "GB82 WEST 1234 5698 7654 32" {
		t.Errorf("Print = %q", got)
	}
	if got := i.Masked(); got != "GB****************5432" || strings.Contains(got, "WEST") {
		t.Errorf("Masked = %q", got)
	}
	if i.Country() != "GB" || i.BBAN() != "WEST12345698765432" {
		t.Errorf("Country, BBAN = %q, %q", i.Country(), i.BBAN())
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"GB82 WEST 1234 5698 7654 32", "iban de89370400440532013000", "", "XC00", "IBANIBAN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		i, err := Parse(s)
		if err != nil {
			return
		}
		// A parsed IBAN is its own normal form, checks again, and prints back.
		if err := Check(string(i)); err != nil {
			t.Fatalf("Parse(%q) = %q, which Check refuses: %v", s, i, err)
		}
		if j, err := Parse(i.Print()); err != nil || j != i {
			t.Fatalf("Parse(Print(%q)) = %q, %v", i, j, err)
		}
		if len(i) > MaxLen {
			t.Fatalf("Parse(%q) = %q, longer than %d", s, i, MaxLen)
		}
	})
}
