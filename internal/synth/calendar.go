package synth

import "github.com/crossroads-hub/crossroads/internal/date"

// The generator works on day numbers (days since 1970-01-01) because it adds and compares
// dates millions of times; date.Date.AddDays goes through time.Time, which is ten times
// slower. The conversions follow Howard Hinnant's days_from_civil and civil_from_days,
// valid for every date from year 0 on.

// dayNum returns the day number of d.
func dayNum(d date.Date) int {
	y, m, dd := d.Year(), d.Month(), d.Day()
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	doy := (153*((m+9)%12)+2)/5 + dd - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// fromDayNum returns the date of day number z.
func fromDayNum(z int) date.Date {
	z += 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	y := yoe + era*400
	if m <= 2 {
		y++
	}
	return date.Of(y, m, d)
}

// dateOf returns the date of a day number, or the zero Date for day 0, which the
// generator uses for "none" (1970-01-01 itself is never an open end or a death).
func dateOf(day int) date.Date {
	if day == 0 {
		return 0
	}
	return fromDayNum(day)
}

func leap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// anniversary returns the day n years after day (before it when n < 0). A 29 February
// falls on 28 February in common years, as population registers count ages.
func anniversary(day, n int) int {
	d := fromDayNum(day)
	y, m, dd := d.Year()+n, d.Month(), d.Day()
	if m == 2 && dd == 29 && !leap(y) {
		dd = 28
	}
	return dayNum(date.Of(y, m, dd))
}

// ageOn returns the age in whole years on day of someone born on born.
func ageOn(born, day int) int {
	b, d := fromDayNum(born), fromDayNum(day)
	age := d.Year() - b.Year()
	if d.Month()*100+d.Day() < b.Month()*100+b.Day() {
		age--
	}
	return age
}
