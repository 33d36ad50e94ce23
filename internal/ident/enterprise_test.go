package ident

import (
	"errors"
	"testing"
)

// 0403.170.701: 04031707 mod 97 = 96, 97-96 = 01, so the number said to be
// valid is. 21234567 mod 97 = 6, 97-6 = 91.
func TestParseEnterpriseValid(t *testing.T) {
	tests := []struct {
		in, wire, printed string
	}{
		{"0403170701", "0403170701", "0403.170.701"},
		{"0403.170.701", "0403170701", "0403.170.701"},
		{"BE0403170701", "0403170701", "0403.170.701"},
		{"BE 0403.170.701", "0403170701", "0403.170.701"},
		{"be0403 170 701", "0403170701", "0403.170.701"},
		{"0000000097", "0000000097", "0000.000.097"},
		{"1999.999.943", "1999999943", "1999.999.943"},
	}
	for _, tt := range tests {
		n, err := ParseEnterprise(tt.in)
		if err != nil || n.String() != tt.wire || n.Format() != tt.printed {
			t.Errorf("ParseEnterprise(%q) = %v %v, %v; want %v %v", tt.in, n, n.Format(), err, tt.wire, tt.printed)
		}
		if !ValidEnterprise(tt.in) || CheckEnterprise(tt.in) != nil {
			t.Errorf("ValidEnterprise(%q) = false; want true", tt.in)
		}
	}
}

func TestParseEstablishmentValid(t *testing.T) {
	tests := []struct {
		in, wire, printed string
	}{
		{"2123456791", "2123456791", "2.123.456.791"},
		{"2.123.456.791", "2123456791", "2.123.456.791"},
		{" 2 123 456 791", "2123456791", "2.123.456.791"},
	}
	for _, tt := range tests {
		n, err := ParseEstablishment(tt.in)
		if err != nil || n.String() != tt.wire || n.Format() != tt.printed {
			t.Errorf("ParseEstablishment(%q) = %v %v, %v; want %v %v", tt.in, n, n.Format(), err, tt.wire, tt.printed)
		}
		if !ValidEstablishment(tt.in) || CheckEstablishment(tt.in) != nil {
			t.Errorf("ValidEstablishment(%q) = false; want true", tt.in)
		}
	}
}

type invalidUnit struct{ in, field, msg string }

var invalidEnterprises = []invalidUnit{
	{"", "length", "enterprise number must have 10 digits, got 0"},
	{"403170701", "length", "enterprise number must have 10 digits, got 9"},
	{"BE", "length", "enterprise number must have 10 digits, got 0"},
	{"0403-170-701", "character", "character '-' at position 5 is not a digit"},
	{"B0403170701", "character", "character 'B' at position 1 is not a digit"},
	{"0403170702", "check digits", "check digits 02 do not match 01"},
	{"2123456791", "first digit", "enterprise number must start with 0 or 1, not 2 (establishment-unit numbers start with 2-8)"},
	{"9123456791", "first digit", "enterprise number must start with 0 or 1, not 9"},
}

var invalidEstablishments = []invalidUnit{
	{"212345679", "length", "establishment-unit number must have 10 digits, got 9"},
	{"BE2123456791", "character", "character 'B' at position 1 is not a digit"},
	{"2123456790", "check digits", "check digits 90 do not match 91"},
	{"0403170701", "first digit", "establishment-unit number must start with 2-8, not 0 (enterprise numbers start with 0 or 1)"},
	{"9123456791", "first digit", "establishment-unit number must start with 2-8, not 9"},
}

func TestParseEnterpriseInvalid(t *testing.T) {
	for _, tt := range invalidEnterprises {
		_, err := ParseEnterprise(tt.in)
		checkUnitError(t, "ParseEnterprise", tt, err)
		checkUnitError(t, "CheckEnterprise", tt, CheckEnterprise(tt.in))
		if ValidEnterprise(tt.in) {
			t.Errorf("ValidEnterprise(%q) = true; want false", tt.in)
		}
	}
}

func TestParseEstablishmentInvalid(t *testing.T) {
	for _, tt := range invalidEstablishments {
		_, err := ParseEstablishment(tt.in)
		checkUnitError(t, "ParseEstablishment", tt, err)
		checkUnitError(t, "CheckEstablishment", tt, CheckEstablishment(tt.in))
		if ValidEstablishment(tt.in) {
			t.Errorf("ValidEstablishment(%q) = true; want false", tt.in)
		}
	}
}

func checkUnitError(t *testing.T, fn string, tt invalidUnit, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Field != tt.field || e.Msg != tt.msg {
		t.Errorf("%s(%q) = %v; want %s: %s", fn, tt.in, err, tt.field, tt.msg)
	}
}

func TestMakeEnterprise(t *testing.T) {
	if n, err := MakeEnterprise(4031707); err != nil || n.Format() != "0403.170.701" {
		t.Errorf("MakeEnterprise(4031707) = %v, %v; want 0403.170.701", n.Format(), err)
	}
	if n, err := MakeEstablishment(21234567); err != nil || n.Format() != "2.123.456.791" {
		t.Errorf("MakeEstablishment(21234567) = %v, %v; want 2.123.456.791", n.Format(), err)
	}
	tests := []struct {
		make func(int) error
		base int
		msg  string
	}{
		{makeEnterpriseErr, -1, "enterprise number base -1 is out of range 00000000-19999999"},
		{makeEnterpriseErr, 20000000, "enterprise number base 20000000 is out of range 00000000-19999999"},
		{makeEstablishmentErr, 19999999, "establishment-unit number base 19999999 is out of range 20000000-89999999"},
		{makeEstablishmentErr, 90000000, "establishment-unit number base 90000000 is out of range 20000000-89999999"},
	}
	for _, tt := range tests {
		var e *Error
		if err := tt.make(tt.base); !errors.As(err, &e) || e.Field != "base" || e.Msg != tt.msg {
			t.Errorf("Make(%d) = %v; want %v", tt.base, err, tt.msg)
		}
	}
}

func makeEnterpriseErr(base int) error    { _, err := MakeEnterprise(base); return err }
func makeEstablishmentErr(base int) error { _, err := MakeEstablishment(base); return err }

func TestUnitZeroValue(t *testing.T) {
	var e EnterpriseNumber
	var u EstablishmentNumber
	if !e.IsZero() || e.String() != "" || e.Format() != "" || !u.IsZero() || u.String() != "" || u.Format() != "" {
		t.Errorf("zero values = %q %q %q %q; want empty", e, e.Format(), u, u.Format())
	}
}

func TestValidEnterpriseDoesNotAllocate(t *testing.T) {
	for _, in := range []string{"0403170701", "BE 0403.170.701", "0403170702", "x"} {
		if n := testing.AllocsPerRun(100, func() { ValidEnterprise(in) }); n != 0 {
			t.Errorf("ValidEnterprise(%q) allocates %v times; want 0", in, n)
		}
	}
}
