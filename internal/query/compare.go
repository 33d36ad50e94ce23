package query

import "strings"

// Compare orders two attribute values: numerically and exactly when both are plain decimal
// numbers (an optional minus, digits, an optional fraction: "007" = "7", "2.50" = "2.5"),
// byte-wise otherwise. It returns -1, 0 or +1.
//
// Decimals are compared digit by digit rather than through float64, so that long numeric
// identifiers ("12345678901234567890") never compare equal to their neighbours.
func Compare(a, b string) int {
	da, okA := parseDecimal(a)
	db, okB := parseDecimal(b)
	if !okA || !okB {
		return strings.Compare(a, b)
	}
	return da.cmp(db)
}

// decimal is a number split into sign, integer digits without leading zeros and fraction
// digits without trailing zeros; zero is never negative.
type decimal struct {
	neg       bool
	int, frac string
}

func parseDecimal(s string) (decimal, bool) {
	var d decimal
	if strings.HasPrefix(s, "-") {
		d.neg, s = true, s[1:]
	}
	i, f, dot := strings.Cut(s, ".")
	if i == "" || !digits(i) || (dot && (f == "" || !digits(f))) {
		return decimal{}, false
	}
	d.int = strings.TrimLeft(i, "0")
	d.frac = strings.TrimRight(f, "0")
	if d.int == "" && d.frac == "" {
		d.neg = false
	}
	return d, true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (a decimal) cmp(b decimal) int {
	if a.neg != b.neg {
		if a.neg {
			return -1
		}
		return 1
	}
	c := a.cmpAbs(b)
	if a.neg {
		return -c
	}
	return c
}

func (a decimal) cmpAbs(b decimal) int {
	if len(a.int) != len(b.int) {
		if len(a.int) < len(b.int) {
			return -1
		}
		return 1
	}
	if c := strings.Compare(a.int, b.int); c != 0 {
		return c
	}
	// Fractions without trailing zeros compare as strings: "25" > "2" and "3" > "25".
	return strings.Compare(a.frac, b.frac)
}
