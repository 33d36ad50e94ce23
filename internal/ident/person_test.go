package ident

import (
	"errors"
	"fmt"
	"testing"
)

// describe summarises every accessor of p, so that one comparison checks
// them all and a failure shows what differs.
func describe(p PersonNumber) string {
	y, m, d := p.BirthDate()
	return fmt.Sprintf("%s %s %04d-%02d-%02d c%d seq %03d %s %s bis=%t",
		p, p.Format(), y, m, d, p.Century(), p.Sequence(), p.Sex(), p.Kind(), p.IsBIS())
}

// The check digits in these literals were computed by hand with the rule in
// the package doc and double-checked with an independent script.
var validPersons = []struct {
	in   string
	want string
}{
	// 850730033 mod 97 = 69, 97-69 = 28.
	{"85073003328", "85073003328 85.07.30-033.28 1985-07-30 c19 seq 033 male register bis=false"},
	{"85.07.30-033.28", "85073003328 85.07.30-033.28 1985-07-30 c19 seq 033 male register bis=false"},
	{" 85 07 30 033 28 ", "85073003328 85.07.30-033.28 1985-07-30 c19 seq 033 male register bis=false"},
	{"850730-033-28", "85073003328 85.07.30-033.28 1985-07-30 c19 seq 033 male register bis=false"},
	// 2010101002 mod 97 = 72, 97-72 = 25.
	{"01010100225", "01010100225 01.01.01-002.25 2001-01-01 c20 seq 002 female register bis=false"},
	// BIS, sex known: month 05+40. 904512123 mod 97 = 24.
	{"90.45.12-123.73", "90451212373 90.45.12-123.73 1990-05-12 c19 seq 123 male BIS, sex known bis=true"},
	// BIS, sex unknown, date unknown: month 00+20. 752000004 mod 97 = 35.
	{"75200000462", "75200000462 75.20.00-004.62 1975-00-00 c19 seq 004 unknown BIS, sex unknown bis=true"},
	// 29 February of the leap years 2000 and 1984.
	{"00022900145", "00022900145 00.02.29-001.45 2000-02-29 c20 seq 001 male register bis=false"},
	{"84022900233", "84022900233 84.02.29-002.33 1984-02-29 c19 seq 002 female register bis=false"},
	// Unknown day with a known month, unknown month with a known day.
	{"85070003355", "85070003355 85.07.00-033.55 1985-07-00 c19 seq 033 male register bis=false"},
	{"85.00.30-033.76", "85003003376 85.00.30-033.76 1985-00-30 c19 seq 033 male register bis=false"},
}

func TestParsePersonValid(t *testing.T) {
	for _, tt := range validPersons {
		p, err := ParsePerson(tt.in)
		if err != nil {
			t.Errorf("ParsePerson(%q) = %v; want %v", tt.in, err, tt.want)
			continue
		}
		if got := describe(p); got != tt.want {
			t.Errorf("ParsePerson(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

var invalidPersons = []struct {
	in, field, msg string
}{
	{"", "length", "person number must have 11 digits, got 0"},
	{"8507300332", "length", "person number must have 11 digits, got 10"},
	{"850730033288", "length", "person number must have 11 digits, got 12"},
	{"85x73003328", "character", "character 'x' at position 3 is not a digit"},
	{"85/07/30-033.28", "character", "character '/' at position 3 is not a digit"},
	{"é5073003328", "character", "character 'é' at position 1 is not a digit"},
	{"85073003328\n", "character", "character '\\n' at position 12 is not a digit"},
	{"85_07_30_033_28", "character", "character '_' at position 3 is not a digit"},
	{"85133003328", "month", "month 13 is not a month"},
	{"85333003328", "month", "month 33 is not a month"},
	{"85073203328", "day", "day 32 is not a day of any month"},
	{"85073000028", "sequence", "sequence 000 is out of range 001-998"},
	{"85073099928", "sequence", "sequence 999 is out of range 001-998"},
	{"85073003312", "check digits", "check digits 12 do not match 28 (born before 2000) or 57 (born from 2000)"},
	{"85073003300", "check digits", "check digits 00 do not match 28 (born before 2000) or 57 (born from 2000)"},
	// 29 February 1900 (check digits of the 1900 rule) and 2001.
	{"00022900116", "day", "day 29 is not a day of 1900-02"},
	{"01022900166", "day", "day 29 is not a day of 2001-02"},
	{"86022900275", "day", "day 29 is not a day of 1986-02"},
}

func TestParsePersonInvalid(t *testing.T) {
	for _, tt := range invalidPersons {
		p, err := ParsePerson(tt.in)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("ParsePerson(%q) = %v, %v; want *Error %v", tt.in, describe(p), err, tt.msg)
			continue
		}
		if e.Field != tt.field || e.Msg != tt.msg || e.Input != tt.in {
			t.Errorf("ParsePerson(%q) = %q %q %q; want %q %q", tt.in, e.Field, e.Msg, e.Input, tt.field, tt.msg)
		}
		if !p.IsZero() {
			t.Errorf("ParsePerson(%q) = %v with error; want zero value", tt.in, describe(p))
		}
	}
}

func TestCheckPersonAgrees(t *testing.T) {
	for _, tt := range validPersons {
		if err := CheckPerson(tt.in); err != nil || !ValidPerson(tt.in) {
			t.Errorf("CheckPerson(%q) = %v, ValidPerson = %t; want nil, true", tt.in, err, ValidPerson(tt.in))
		}
	}
	for _, tt := range invalidPersons {
		err := CheckPerson(tt.in)
		var e *Error
		if !errors.As(err, &e) || e.Msg != tt.msg || ValidPerson(tt.in) {
			t.Errorf("CheckPerson(%q) = %v, ValidPerson = %t; want %v, false", tt.in, err, ValidPerson(tt.in), tt.msg)
		}
	}
}

func TestValidPersonDoesNotAllocate(t *testing.T) {
	for _, in := range []string{"85073003328", "85.07.30-033.28", "85073003312", "x"} {
		if n := testing.AllocsPerRun(100, func() { ValidPerson(in) }); n != 0 {
			t.Errorf("ValidPerson(%q) allocates %v times; want 0", in, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = CheckPerson("85073003328") }); n != 0 {
		t.Errorf("CheckPerson(valid) allocates %v times; want 0", n)
	}
}

func TestMakePerson(t *testing.T) {
	tests := []struct {
		year, month, day, seq int
		kind                  PersonKind
		want                  string
	}{
		{1985, 7, 30, 33, Register, "85073003328"},
		{2001, 1, 1, 2, Register, "01010100225"},
		{1990, 5, 12, 123, BISSexKnown, "90451212373"},
		{1975, 0, 0, 4, BISSexUnknown, "75200000462"},
		{2000, 2, 29, 1, Register, "00022900145"},
	}
	for _, tt := range tests {
		p, err := MakePerson(tt.year, tt.month, tt.day, tt.seq, tt.kind)
		if err != nil || p.String() != tt.want {
			t.Errorf("MakePerson(%d, %d, %d, %d, %v) = %v, %v; want %v",
				tt.year, tt.month, tt.day, tt.seq, tt.kind, p, err, tt.want)
		}
	}
}

func TestMakePersonInvalid(t *testing.T) {
	tests := []struct {
		year, month, day, seq int
		kind                  PersonKind
		field, msg            string
	}{
		{1899, 1, 1, 1, Register, "year", "year 1899 is out of range 1900-2099"},
		{2100, 1, 1, 1, Register, "year", "year 2100 is out of range 1900-2099"},
		{1985, 13, 1, 1, Register, "month", "month 13 is not a month"},
		{1985, -1, 1, 1, Register, "month", "month -1 is not a month"},
		{1985, 1, 32, 1, Register, "day", "day 32 is not a day of any month"},
		{1900, 2, 29, 1, Register, "day", "day 29 is not a day of 1900-02"},
		{2001, 4, 31, 1, BISSexKnown, "day", "day 31 is not a day of 2001-04"},
		{1985, 1, 1, 0, Register, "sequence", "sequence 000 is out of range 001-998"},
		{1985, 1, 1, 999, Register, "sequence", "sequence 999 is out of range 001-998"},
		{1985, 1, 1, 1, 3, "kind", "person kind 3 is not a kind"},
	}
	for _, tt := range tests {
		_, err := MakePerson(tt.year, tt.month, tt.day, tt.seq, tt.kind)
		var e *Error
		if !errors.As(err, &e) || e.Field != tt.field || e.Msg != tt.msg {
			t.Errorf("MakePerson(%d, %d, %d, %d, %d) = %v; want %s: %s",
				tt.year, tt.month, tt.day, tt.seq, tt.kind, err, tt.field, tt.msg)
		}
	}
}

func TestPersonZeroValue(t *testing.T) {
	var p PersonNumber
	if got := describe(p); got != "  0000-00-00 c0 seq 000 unknown register bis=false" || !p.IsZero() {
		t.Errorf("PersonNumber{} = %q; want empty strings and zeros", got)
	}
}

// The century is only well defined because the rules never both match.
func TestCenturyRulesDisjoint(t *testing.T) {
	if r := uint64(2e9) % 97; r == 0 {
		t.Fatalf("2e9 mod 97 = %d; want non-zero", r)
	}
}
