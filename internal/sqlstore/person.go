package sqlstore

import (
	"strconv"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

// personKey returns the integer column value of a person number in wire or printed form,
// or an Invalid fault on field "person". The common case, 11 valid digits, does not allocate.
func personKey(s string) (int64, error) {
	if len(s) == 11 && ident.ValidPerson(s) {
		return strconv.ParseInt(s, 10, 64)
	}
	p, err := ident.ParsePerson(s)
	if err != nil {
		return 0, fault.Invalidf("person", "%v", err)
	}
	return strconv.ParseInt(p.String(), 10, 64)
}

// personString formats a person column value back to 11 digits: numbers of persons born
// 2000–2009 begin with 0.
func personString(n int64) string {
	var b [11]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[:])
}
