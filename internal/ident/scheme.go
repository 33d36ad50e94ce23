package ident

// unitDigits is the length of enterprise and establishment-unit numbers.
const unitDigits = 10

// scheme describes one of the two 10-digit numbering schemes, which differ
// only in their first digit, their printed form and the "BE" prefix, so
// that one implementation serves both.
type scheme struct {
	name      string // for messages
	first     string // the allowed first digits, for messages
	lo, hi    int    // allowed first digit range
	prefix    bool   // a "BE" prefix is allowed
	otherHint string // what a number with the other scheme's first digit is
}

var (
	enterprise = &scheme{
		name: "enterprise number", first: "0 or 1", lo: 0, hi: 1, prefix: true,
		otherHint: "establishment-unit numbers start with 2-8",
	}
	establishment = &scheme{
		name: "establishment-unit number", first: "2-8", lo: 2, hi: 8,
		otherHint: "enterprise numbers start with 0 or 1",
	}
)

// skipPrefix returns where the digits of s start: after a "BE" prefix in
// any case, when the scheme allows one.
func (sc *scheme) skipPrefix(s string) int {
	if sc.prefix && len(s) >= 2 && s[0]|0x20 == 'b' && s[1]|0x20 == 'e' {
		return 2
	}
	return 0
}

// check is the allocation-free validation core.
func (sc *scheme) check(s string) (uint64, bool) {
	v, n, bad := scan(s, sc.skipPrefix(s), unitDigits, false)
	if bad >= 0 || n != unitDigits {
		return 0, false
	}
	if d := int(v / 1e9); d < sc.lo || d > sc.hi {
		return 0, false
	}
	return v, int(v%100) == check97(v/100)
}

// parse validates s, explaining a failure only when there is one.
func (sc *scheme) parse(s string) (uint64, error) {
	if v, ok := sc.check(s); ok {
		return v, nil
	}
	return 0, sc.explain(s)
}

// explain redoes the checks of an invalid s to say what is wrong.
func (sc *scheme) explain(s string) *Error {
	v, n, bad := scan(s, sc.skipPrefix(s), unitDigits, false)
	if bad >= 0 {
		return charError(s, bad)
	}
	if n != unitDigits {
		return lengthError(s, sc.name, unitDigits, n)
	}
	if d := int(v / 1e9); d < sc.lo || d > sc.hi {
		if d == 9 {
			return errorf(s, "first digit", "%s must start with %s, not 9", sc.name, sc.first)
		}
		return errorf(s, "first digit", "%s must start with %s, not %d (%s)",
			sc.name, sc.first, d, sc.otherHint)
	}
	return errorf(s, "check digits", "check digits %02d do not match %02d",
		v%100, check97(v/100))
}

// make appends check digits to base, which must have an allowed first digit.
func (sc *scheme) make(base int) (uint64, error) {
	lo, hi := sc.lo*1e7, (sc.hi+1)*1e7-1
	if base < lo || base > hi {
		return 0, errorf("", "base", "%s base %d is out of range %08d-%08d",
			sc.name, base, lo, hi)
	}
	return uint64(base)*100 + uint64(check97(uint64(base))), nil
}

// layoutUnit lays out a 10-digit v in pattern, or returns "" for the zero
// value.
func layoutUnit(v uint64, pattern string) string {
	if v == 0 {
		return ""
	}
	return layout(v, unitDigits, pattern)
}
