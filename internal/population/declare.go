package population

import (
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

// CheckDeclared checks what every declared change names: a person number (field
// "person"; "" skips it, for a birth) and the day it happened (field "date"), which is not
// after today. It returns the number in its canonical form.
func CheckDeclared(person string, day, today date.Date) (string, error) {
	var number string
	if person != "" {
		pn, err := ident.ParsePerson(person)
		if err != nil {
			return "", fault.Invalidf("person", "%v", err)
		}
		number = pn.String()
	}
	switch {
	case day.IsZero():
		return "", fault.Invalidf("date", "is required (YYYY-MM-DD)")
	case day > today:
		return "", fault.Invalidf("date", "%s is after today (%s)", day, today)
	}
	return number, nil
}
