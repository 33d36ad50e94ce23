package ident

import "fmt"

// Sex is the sex a person number encodes. The zero value is SexUnknown, so
// that nothing is claimed about a person unless the number says it.
type Sex uint8

// Sexes a person number can encode.
const (
	SexUnknown Sex = iota
	Male
	Female
)

// String returns "unknown", "male" or "female".
func (s Sex) String() string {
	switch s {
	case Male:
		return "male"
	case Female:
		return "female"
	case SexUnknown:
		return "unknown"
	}
	return fmt.Sprintf("Sex(%d)", uint8(s))
}

// PersonKind says which register a person number comes from, which is
// encoded in its month: the population register uses the month as is, BIS
// numbers add 20 when the sex is unknown and 40 when it is known.
type PersonKind uint8

// Person kinds, in the order of their month offsets 0, 20 and 40.
const (
	Register PersonKind = iota
	BISSexUnknown
	BISSexKnown
)

// String returns "register", "BIS, sex unknown" or "BIS, sex known".
func (k PersonKind) String() string {
	switch k {
	case Register:
		return "register"
	case BISSexUnknown:
		return "BIS, sex unknown"
	case BISSexKnown:
		return "BIS, sex known"
	}
	return fmt.Sprintf("PersonKind(%d)", uint8(k))
}

// monthOffset is what the kind adds to the month.
func (k PersonKind) monthOffset() int { return 20 * int(k) }

// PersonNumber is a valid person number. It is a small comparable value, so
// it can be a map key; the zero value is no number, since no valid number
// has sequence 000, and its methods then return zeros and empty strings.
type PersonNumber struct {
	v   uint64 // the 11 digits as an integer
	y2k bool   // the 2000 check rule matched: born 20YY
}

// Sequence range shared by men (odd) and women (even).
const (
	minSeq = 1
	maxSeq = 998
)

// personDigits is the length of the wire form.
const personDigits = 11

// MakePerson builds the person number for a birth date, sequence and kind,
// computing its check digits. year must be in 1900-2099; month and day may be
// 0 when unknown (see the package doc). The sequence parity gives the sex:
// odd for men, even for women, except for BISSexUnknown. It does not
// allocate unless it fails, because synthetic-data generators call it
// millions of times.
func MakePerson(year, month, day, seq int, kind PersonKind) (PersonNumber, error) {
	if err := checkBirth(year, month, day); err != nil {
		return PersonNumber{}, err
	}
	if seq < minSeq || seq > maxSeq {
		return PersonNumber{}, seqError("", seq)
	}
	if kind > BISSexKnown {
		return PersonNumber{}, errorf("", "kind", "person kind %d is not a kind", uint8(kind))
	}
	base := uint64(year%100)*1e7 + uint64(month+kind.monthOffset())*1e5 +
		uint64(day)*1e3 + uint64(seq)
	p := PersonNumber{y2k: year >= 2000}
	if p.y2k {
		p.v = base*100 + uint64(check97(2e9+base))
	} else {
		p.v = base*100 + uint64(check97(base))
	}
	return p, nil
}

// checkBirth validates a full birth date given to MakePerson.
func checkBirth(year, month, day int) error {
	if year < 1900 || year > 2099 {
		return errorf("", "year", "year %d is out of range 1900-2099", year)
	}
	if month < 0 || month > 12 {
		return errorf("", "month", "month %d is not a month", month)
	}
	if day < 0 || day > 31 {
		return errorf("", "day", "day %d is not a day of any month", day)
	}
	if !dateOK(year, month, day) {
		return dateError("", year, month, day)
	}
	return nil
}

// IsZero reports whether p is the zero value rather than a parsed number.
func (p PersonNumber) IsZero() bool { return p.v == 0 }

// String returns the wire form: 11 digits.
func (p PersonNumber) String() string {
	if p.IsZero() {
		return ""
	}
	return layout(p.v, personDigits, "###########")
}

// Format returns the printed form YY.MM.DD-SSS.CC.
func (p PersonNumber) Format() string {
	if p.IsZero() {
		return ""
	}
	return layout(p.v, personDigits, "##.##.##-###.##")
}

// Century returns the first two digits of the birth year, 19 or 20, as
// resolved from the check digits.
func (p PersonNumber) Century() int {
	switch {
	case p.IsZero():
		return 0
	case p.y2k:
		return 20
	}
	return 19
}

// BirthDate returns the full birth year and the month and day, which are 0
// when unknown. For BIS numbers the month is the real month, without offset.
func (p PersonNumber) BirthDate() (year, month, day int) {
	f := splitPerson(p.v)
	month, _, _ = decodeMonth(f.mm)
	return p.Century()*100 + f.yy, month, f.dd
}

// Sequence returns the sequence number, 1-998.
func (p PersonNumber) Sequence() int { return splitPerson(p.v).seq }

// Kind returns the register the number comes from.
func (p PersonNumber) Kind() PersonKind {
	_, k, _ := decodeMonth(splitPerson(p.v).mm)
	return k
}

// IsBIS reports whether p is a BIS number, for a person outside the
// population register.
func (p PersonNumber) IsBIS() bool { return p.Kind() != Register }

// Sex returns the sex encoded in the sequence parity, or SexUnknown for BIS
// numbers that say the sex is unknown.
func (p PersonNumber) Sex() Sex {
	seq := p.Sequence()
	switch {
	case seq == 0 || p.Kind() == BISSexUnknown:
		return SexUnknown
	case seq%2 == 1:
		return Male
	}
	return Female
}
