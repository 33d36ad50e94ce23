package ident

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// maxQuoted bounds how much of an input an error message repeats, so that a
// hostile or mistaken megabyte of input does not end up in every log line.
const maxQuoted = 32

// Error reports an identifier that cannot be parsed or made. Field names the
// part that is wrong so that callers such as the HTTP layer can point at it:
// "character", "length", "first digit", "year", "month", "day", "sequence",
// "check digits", "kind", "sex" or "base".
type Error struct {
	Field string // the part of the identifier that is wrong
	Msg   string // what is wrong, in words, without the input
	Input string // the input as given, in full; empty for Make functions
}

// Error returns Msg prefixed by the input, truncated to maxQuoted characters.
func (e *Error) Error() string {
	if e.Input == "" {
		return "ident: " + e.Msg
	}
	return "ident: " + strconv.Quote(truncate(e.Input, maxQuoted)) + ": " + e.Msg
}

// truncate shortens s to at most n characters, marking the cut with "...".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for k := 0; k < n; k++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i] + "..."
}

// errorf builds an *Error; it keeps the many error sites to one line each.
func errorf(input, field, format string, args ...any) *Error {
	return &Error{Field: field, Msg: fmt.Sprintf(format, args...), Input: input}
}

// charError reports the byte at index i of s, which is neither a digit nor a
// separator. Its position is counted in characters from 1, as a person
// reading the input would count.
func charError(s string, i int) *Error {
	r, _ := utf8.DecodeRuneInString(s[i:])
	pos := utf8.RuneCountInString(s[:i]) + 1
	return errorf(s, "character", "character %q at position %d is not a digit", r, pos)
}

// lengthError reports an input with the wrong number of digits.
func lengthError(s, name string, want, got int) *Error {
	return errorf(s, "length", "%s must have %d digits, got %d", name, want, got)
}
