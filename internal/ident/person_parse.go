package ident

// ParsePerson parses a person number in wire or printed form; see the
// package doc for what it tolerates. The error is an *Error.
func ParsePerson(s string) (PersonNumber, error) {
	v, century, ok := checkPerson(s)
	if !ok {
		return PersonNumber{}, explainPerson(s)
	}
	return PersonNumber{v: v, y2k: century == 20}, nil
}

// CheckPerson reports what is wrong with s as a person number, or nil. It
// allocates only to build the error.
func CheckPerson(s string) error {
	if _, _, ok := checkPerson(s); !ok {
		return explainPerson(s)
	}
	return nil
}

// ValidPerson reports whether s is a valid person number. It never
// allocates.
func ValidPerson(s string) bool {
	_, _, ok := checkPerson(s)
	return ok
}

// checkPerson is the allocation-free core of the parse and check functions.
// It only says yes or no; explainPerson finds the reason, since errors are
// rare in bulk data and their cost should not slow down the valid case.
func checkPerson(s string) (v uint64, century int, ok bool) {
	v, n, bad := scan(s, 0, personDigits, true)
	if bad >= 0 || n != personDigits {
		return 0, 0, false
	}
	century, r := splitPerson(v).validate()
	return v, century, r == valid
}

// explainPerson redoes the checks of an invalid s to say what is wrong.
func explainPerson(s string) error {
	v, n, bad := scan(s, 0, personDigits, true)
	if bad >= 0 {
		return charError(s, bad)
	}
	if n != personDigits {
		return lengthError(s, "person number", personDigits, n)
	}
	f := splitPerson(v)
	_, r := f.validate()
	return f.explain(s, r)
}

// personFields are the parts of a person number as written.
type personFields struct {
	yy, mm, dd, seq, cc int
	base                uint64 // the first nine digits
}

// splitPerson cuts the 11-digit value v into its fields.
func splitPerson(v uint64) personFields {
	return personFields{
		yy:   int(v / 1e9),
		mm:   int(v / 1e7 % 100),
		dd:   int(v / 1e5 % 100),
		seq:  int(v / 100 % 1000),
		cc:   int(v % 100),
		base: v / 100,
	}
}

// reason says which check a person number failed, without allocating.
type reason uint8

const (
	valid reason = iota
	badMonth
	badDay
	badSequence
	badCheck
	badDate
)

// validate checks the fields and resolves the century (19 or 20). The
// calendar check comes last because 29 February depends on the century.
func (f personFields) validate() (century int, r reason) {
	month, _, ok := decodeMonth(f.mm)
	switch {
	case !ok:
		return 0, badMonth
	case f.dd > 31:
		return 0, badDay
	case f.seq < minSeq || f.seq > maxSeq:
		return 0, badSequence
	}
	century, ok = f.century()
	if !ok {
		return 0, badCheck
	}
	if !dateOK(century*100+f.yy, month, f.dd) {
		return 0, badDate
	}
	return century, valid
}

// explain turns a failed check into an *Error naming the field.
func (f personFields) explain(s string, r reason) error {
	switch r {
	case badMonth:
		return errorf(s, "month", "month %02d is not a month", f.mm)
	case badDay:
		return errorf(s, "day", "day %02d is not a day of any month", f.dd)
	case badSequence:
		return seqError(s, f.seq)
	case badCheck:
		return errorf(s, "check digits",
			"check digits %02d do not match %02d (born before 2000) or %02d (born from 2000)",
			f.cc, check97(f.base), check97(2e9+f.base))
	case badDate:
		month, _, _ := decodeMonth(f.mm)
		century, _ := f.century()
		return dateError(s, century*100+f.yy, month, f.dd)
	}
	return nil
}

// century resolves the century from the check digits alone. The two rules
// never both match, since 2e9 is not a multiple of 97.
func (f personFields) century() (int, bool) {
	switch f.cc {
	case check97(f.base):
		return 19, true
	case check97(2e9 + f.base):
		return 20, true
	}
	return 0, false
}

// decodeMonth splits a written month into the real month and the kind.
func decodeMonth(mm int) (month int, kind PersonKind, ok bool) {
	switch {
	case mm >= 0 && mm <= 12:
		return mm, Register, true
	case mm >= 20 && mm <= 32:
		return mm - 20, BISSexUnknown, true
	case mm >= 40 && mm <= 52:
		return mm - 40, BISSexKnown, true
	}
	return 0, 0, false
}

// dateOK reports whether day exists in month of year, treating 0 as an
// unknown month or day that is always acceptable. day is at most 31.
func dateOK(year, month, day int) bool {
	if month == 0 || day == 0 {
		return true
	}
	return day <= daysIn(year, month)
}

// monthDays holds the days of each month in a common year.
var monthDays = [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// daysIn returns the number of days in month (1-12) of year.
func daysIn(year, month int) int {
	leap := year%4 == 0 && (year%100 != 0 || year%400 == 0)
	if month == 2 && leap {
		return 29
	}
	return monthDays[month]
}

// dateError reports a day that the month of that year does not have.
func dateError(s string, year, month, day int) *Error {
	return errorf(s, "day", "day %02d is not a day of %04d-%02d", day, year, month)
}

// seqError reports a sequence outside 001-998.
func seqError(s string, seq int) *Error {
	return errorf(s, "sequence", "sequence %03d is out of range 001-998", seq)
}
