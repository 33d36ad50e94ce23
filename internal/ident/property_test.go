package ident

import (
	"testing"

	"pgregory.net/rapid"
)

// personArgs are the inputs of MakePerson.
type personArgs struct {
	year, month, day, seq int
	kind                  PersonKind
}

// genPersonArgs draws arguments that MakePerson must accept, including
// unknown months and days.
func genPersonArgs() *rapid.Generator[personArgs] {
	return rapid.Custom(func(t *rapid.T) personArgs {
		a := personArgs{
			year:  rapid.IntRange(1900, 2099).Draw(t, "year"),
			month: rapid.IntRange(0, 12).Draw(t, "month"),
			seq:   rapid.IntRange(minSeq, maxSeq).Draw(t, "seq"),
			kind:  PersonKind(rapid.IntRange(0, 2).Draw(t, "kind")),
		}
		maxDay := 31
		if a.month != 0 {
			maxDay = daysIn(a.year, a.month)
		}
		a.day = rapid.IntRange(0, maxDay).Draw(t, "day")
		return a
	})
}

func genPerson() *rapid.Generator[PersonNumber] {
	return rapid.Custom(func(t *rapid.T) PersonNumber {
		a := genPersonArgs().Draw(t, "args")
		p, err := MakePerson(a.year, a.month, a.day, a.seq, a.kind)
		if err != nil {
			t.Fatalf("MakePerson(%+v) = %v; want a number", a, err)
		}
		return p
	})
}

func TestPropMakeParseRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := genPersonArgs().Draw(t, "args")
		p, err := MakePerson(a.year, a.month, a.day, a.seq, a.kind)
		if err != nil {
			t.Fatalf("MakePerson(%+v) = %v; want a number", a, err)
		}
		q, err := ParsePerson(p.String())
		if err != nil || q != p {
			t.Fatalf("ParsePerson(%q) = %v, %v; want %v", p.String(), q, err, p)
		}
		y, m, d := q.BirthDate()
		if y != a.year || m != a.month || d != a.day || q.Sequence() != a.seq || q.Kind() != a.kind {
			t.Fatalf("ParsePerson(%q) = %s; want %+v", p.String(), describe(q), a)
		}
		want := map[bool]Sex{true: Male, false: Female}[a.seq%2 == 1]
		if a.kind == BISSexUnknown {
			want = SexUnknown
		}
		if q.Sex() != want {
			t.Fatalf("ParsePerson(%q).Sex() = %v; want %v", p.String(), q.Sex(), want)
		}
	})
}

func TestPropFormatParseRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genPerson().Draw(t, "p")
		if q, err := ParsePerson(p.Format()); err != nil || q != p {
			t.Fatalf("ParsePerson(%q) = %v, %v; want %v", p.Format(), q, err, p)
		}
	})
}

// A single changed digit shifts base+CC by d·10^k, which is never a
// multiple of 97, so the rule that held fails. It can make the other rule
// hold, though: that needs d·10^k ≡ ±29 (mod 97), and the only solution is
// k = 7, d = ∓6 — the last digit of the year moved by 6, with the century
// flipping (1985 ↔ 2079). The test asserts exactly that.
func TestPropPersonSingleDigitChange(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genPerson().Draw(t, "p")
		s := []byte(p.String())
		i := rapid.IntRange(0, personDigits-1).Draw(t, "position")
		old := s[i]
		s[i] = byte(rapid.IntRange('0', '9').Filter(func(c int) bool { return byte(c) != old }).Draw(t, "digit"))
		q, err := ParsePerson(string(s))
		if err != nil {
			return
		}
		delta := int(s[i]) - int(old)
		if i != 1 || (delta != 6 && delta != -6) || q.Century() == p.Century() {
			t.Fatalf("ParsePerson(%q) = %s; want an error (changed from %s)", s, describe(q), p)
		}
	})
}

// Swapping adjacent digits a, b shifts base+CC by 9·(b−a)·10^k, again never
// a multiple of 97. The other rule holds only when 9·(b−a)·10^k ≡ ±29
// (mod 97): k = 5 with b−a = ±2, the two month digits (02 ↔ 20, 24 ↔ 42),
// or k = 3 with b−a = ±6, the two day digits, which always makes a day over
// 31. So only a month swap can survive, and it flips the century.
func TestPropPersonTransposition(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genPerson().Draw(t, "p")
		s := []byte(p.String())
		i := rapid.IntRange(0, personDigits-2).Filter(func(i int) bool { return s[i] != s[i+1] }).Draw(t, "position")
		s[i], s[i+1] = s[i+1], s[i]
		q, err := ParsePerson(string(s))
		if err != nil {
			return
		}
		if i != 2 || q.Century() == p.Century() {
			t.Fatalf("ParsePerson(%q) = %s; want an error (swapped from %s)", s, describe(q), p)
		}
	})
}

// The escapes the two properties above allow do happen, so those
// properties cannot be tightened.
func TestPersonUndetectedChanges(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		// 1989-07-30: year digit 9 → 3 gives 2083-07-30. Both CC are 15.
		{"89073003315", "83073003315 83.07.30-033.15 2083-07-30 c20 seq 033 male register bis=false"},
		// 2001-02-03: month 02 → 20 gives a BIS number of 1901. Both CC are 69.
		{"01020300269", "01200300269 01.20.03-002.69 1901-00-03 c19 seq 002 unknown BIS, sex unknown bis=true"},
	}
	for i, tt := range tests {
		if !ValidPerson(tt.in) {
			t.Fatalf("ValidPerson(%q) = false; want true", tt.in)
		}
		s := []byte(tt.in)
		if i == 0 {
			s[1] -= 6
		} else {
			s[2], s[3] = s[3], s[2]
		}
		q, err := ParsePerson(string(s))
		if err != nil || describe(q) != tt.want {
			t.Errorf("ParsePerson(%q) = %v, %v; want %v", s, describe(q), err, tt.want)
		}
	}
}

// genUnit draws a valid enterprise or establishment-unit number in wire form
// together with its parser.
func genUnit(t *rapid.T) (string, func(string) bool) {
	if rapid.Bool().Draw(t, "enterprise") {
		n, _ := MakeEnterprise(rapid.IntRange(0, 19999999).Draw(t, "base"))
		return n.String(), ValidEnterprise
	}
	n, _ := MakeEstablishment(rapid.IntRange(20000000, 89999999).Draw(t, "base"))
	return n.String(), ValidEstablishment
}

func TestPropUnitRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		base := rapid.IntRange(0, 19999999).Draw(t, "base")
		n, err := MakeEnterprise(base)
		if err != nil {
			t.Fatalf("MakeEnterprise(%d) = %v", base, err)
		}
		for _, s := range []string{n.String(), n.Format(), "BE" + n.Format()} {
			if m, err := ParseEnterprise(s); err != nil || m != n {
				t.Fatalf("ParseEnterprise(%q) = %v, %v; want %v", s, m, err, n)
			}
		}
		base = rapid.IntRange(20000000, 89999999).Draw(t, "base2")
		u, _ := MakeEstablishment(base)
		for _, s := range []string{u.String(), u.Format()} {
			if m, err := ParseEstablishment(s); err != nil || m != u {
				t.Fatalf("ParseEstablishment(%q) = %v, %v; want %v", s, m, err, u)
			}
		}
	})
}

// With a single check rule, every single-digit change and every adjacent
// transposition of differing digits is detected.
func TestPropUnitErrorsDetected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		wire, valid := genUnit(t)
		s := []byte(wire)
		i := rapid.IntRange(0, unitDigits-1).Draw(t, "position")
		old := s[i]
		s[i] = byte(rapid.IntRange('0', '9').Filter(func(c int) bool { return byte(c) != old }).Draw(t, "digit"))
		if valid(string(s)) {
			t.Fatalf("Valid(%q) = true; want false (changed from %s)", s, wire)
		}
		s = []byte(wire)
		if j := rapid.IntRange(0, unitDigits-2).Draw(t, "swap"); s[j] != s[j+1] {
			s[j], s[j+1] = s[j+1], s[j]
			if valid(string(s)) {
				t.Fatalf("Valid(%q) = true; want false (swapped from %s)", s, wire)
			}
		}
	})
}

// TestCheckRuleEscapes verifies the arithmetic behind the two person
// properties: which digit changes move base+CC by ±29 (mod 97), the gap
// between the 1900 and the 2000 rule. Digit positions count from the right
// of the nine-digit base; k = 7 is the last digit of the year and k = 5 the
// last digit of the month.
func TestCheckRuleEscapes(t *testing.T) {
	gap := func(x int) bool { x = ((x % 97) + 97) % 97; return x == 29 || x == 68 }
	pow := 1
	for k := 0; k <= 8; k++ {
		for d := -9; d <= 9; d++ {
			if d == 0 {
				continue
			}
			change, swap := gap(d*pow), k < 8 && gap(9*d*pow)
			if change != (k == 7 && (d == 6 || d == -6)) {
				t.Errorf("changing digit %d by %d crosses rules = %t", k, d, change)
			}
			if swap != ((k == 5 && (d == 2 || d == -2)) || (k == 3 && (d == 6 || d == -6))) {
				t.Errorf("swapping digits %d and %d at difference %d crosses rules = %t", k, k+1, d, swap)
			}
		}
		pow = pow * 10 % 97
	}
	// Changes in the check digits themselves move by d or 10·d.
	for d := -9; d <= 9; d++ {
		if d != 0 && (gap(d) || gap(10*d) || gap(9*d)) {
			t.Errorf("changing the check digits by %d crosses rules", d)
		}
	}
}
