// Package date provides a calendar date without time of day or zone: the unit of the
// periods of the reference directory (a file held from a date to a date), of birth and death.
//
// A Date is stored as the integer YYYYMMDD, which sorts like the date itself, reads
// plainly in a database shell, and compares in one instruction.
package date

import (
	"encoding/json"
	"fmt"
	"time"
)

// Date is a calendar date as YYYYMMDD; the zero Date means "none" (an open end, an unknown day).
type Date int32

// Max is the open end of a period: a period ending at Max has not ended.
const Max Date = 99991231

// Of returns the date of y-m-d, without checking it.
func Of(y, m, d int) Date { return Date(y*10000 + m*100 + d) }

// FromTime returns the date of t in t's location.
func FromTime(t time.Time) Date {
	y, m, d := t.Date()
	return Of(y, int(m), d)
}

// Parse reads YYYY-MM-DD and checks that it is a real date; "" gives the zero Date.
func Parse(s string) (Date, error) {
	if s == "" {
		return 0, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a date of the form YYYY-MM-DD", truncate(s))
	}
	return FromTime(t), nil
}

// Year, Month and Day split the date.
func (d Date) Year() int  { return int(d) / 10000 }
func (d Date) Month() int { return int(d) / 100 % 100 }
func (d Date) Day() int   { return int(d) % 100 }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == 0 }

// Time returns midnight UTC of d.
func (d Date) Time() time.Time {
	return time.Date(d.Year(), time.Month(d.Month()), d.Day(), 0, 0, 0, 0, time.UTC)
}

// AddDays returns d moved by n days.
func (d Date) AddDays(n int) Date { return FromTime(d.Time().AddDate(0, 0, n)) }

// String returns YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d == 0 {
		return ""
	}
	if d < 0 || d.Year() > 9999 {
		return fmt.Sprintf("%04d-%02d-%02d", d.Year(), d.Month(), d.Day())
	}
	// By hand: dates are formatted on the hot path of every decision.
	y, m, dd := d.Year(), d.Month(), d.Day()
	b := [10]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + m/10), byte('0' + m%10), '-', byte('0' + dd/10), byte('0' + dd%10)}
	return string(b[:])
}

// MarshalJSON writes "YYYY-MM-DD", or null for the zero Date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d == 0 {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON reads "YYYY-MM-DD", "" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = 0
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a date must be a string YYYY-MM-DD")
	}
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
