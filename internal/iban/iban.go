// Package iban reads and checks International Bank Account Numbers (ISO 13616): the
// country's length, the characters, and the two check digits (ISO 7064 MOD 97-10). An
// IBAN is kept in its electronic form (upper case, no spaces) and printed in groups of
// four. It knows nothing of banks: whether an account exists is the bank's to say.
package iban

import (
	"errors"
	"fmt"
	"strings"
)

// IBAN is an account number in its electronic form, checked.
type IBAN string

// MaxLen is the longest IBAN of any country (ISO 13616 allows 34).
const MaxLen = 34

// Errors of Parse, wrapped with the detail.
var (
	ErrEmpty    = errors.New("iban: empty")
	ErrCountry  = errors.New("iban: unknown country")
	ErrLength   = errors.New("iban: wrong length for its country")
	ErrChar     = errors.New("iban: character not allowed")
	ErrChecksum = errors.New("iban: check digits do not match")
)

// Parse reads an IBAN as people write it (spaces, lower case, the "IBAN" prefix of a
// printed document) and checks it.
func Parse(s string) (IBAN, error) {
	e := Normalise(s)
	if e == "" {
		return "", ErrEmpty
	}
	if len(e) > MaxLen+8 { // keeps the messages of hostile input short
		return "", fmt.Errorf("%w: %d characters, at most %d", ErrLength, len(e), MaxLen)
	}
	if err := Check(e); err != nil {
		return "", err
	}
	return IBAN(e), nil
}

// Normalise removes spaces and the "IBAN" prefix and upper-cases the letters; it checks
// nothing.
func Normalise(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '-':
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		b.WriteByte(c)
	}
	e := b.String()
	if strings.HasPrefix(e, "IBAN") && len(e) > 4 && isLetter(e[4]) {
		e = e[4:]
	}
	return e
}

// Check checks an IBAN in electronic form.
func Check(e string) error {
	if len(e) < 4 {
		return fmt.Errorf("%w: %q is too short", ErrLength, e)
	}
	for i := 0; i < len(e); i++ {
		c := e[i]
		ok := isDigit(c) || isLetter(c)
		if i < 2 {
			ok = isLetter(c)
		} else if i < 4 {
			ok = isDigit(c)
		}
		if !ok {
			return fmt.Errorf("%w: %q at position %d", ErrChar, rune(c), i+1)
		}
	}
	want, ok := Lengths[e[:2]]
	if !ok {
		return fmt.Errorf("%w: %q", ErrCountry, e[:2])
	}
	if len(e) != want {
		return fmt.Errorf("%w: %s IBANs have %d characters, this one %d", ErrLength, e[:2], want, len(e))
	}
	if mod97(e[4:]+e[:4]) != 1 {
		return ErrChecksum
	}
	return nil
}

// Make returns the IBAN of a country's basic bank account number (BBAN), with its check
// digits computed: what a bank does when it opens an account.
func Make(country, bban string) (IBAN, error) {
	country = strings.ToUpper(country)
	r := mod97(strings.ToUpper(bban) + country + "00")
	e := fmt.Sprintf("%s%02d%s", country, 98-r, strings.ToUpper(bban))
	if err := Check(e); err != nil {
		return "", err
	}
	return IBAN(e), nil
}

// mod97 is the remainder by 97 of the number a string of digits and letters stands for
// (A = 10 … Z = 35), computed digit by digit.
func mod97(s string) int {
	r := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A'+10)) % 97
		}
	}
	return r
}

// Country is the IBAN's country code.
func (i IBAN) Country() string { return string(i[:2]) }

// BBAN is the country's own account number, after the check digits.
func (i IBAN) BBAN() string { return string(i[4:]) }

// String is the electronic form.
func (i IBAN) String() string { return string(i) }

// Print is the printed form: groups of four characters.
func (i IBAN) Print() string {
	var b strings.Builder
	for k := 0; k < len(i); k += 4 {
		if k > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(string(i[k:min(k+4, len(i))]))
	}
	return b.String()
}

// Masked shows the country and the last four characters only, for logs and messages.
func (i IBAN) Masked() string {
	if len(i) < 8 {
		return "****"
	}
	return string(i[:2]) + strings.Repeat("*", len(i)-6) + string(i[len(i)-4:])
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'A' <= c && c <= 'Z' }
