package employment

import (
	"hash/fnv"
	"strconv"
)

// AppendLine appends w as one line of a quarterly file in format (a CSV file's header is
// CSVHeader).
func AppendLine(b []byte, format string, w WageLine) []byte {
	if format == CSV {
		b = append(b, w.Person...)
		b = append(b, ',')
		b = append(b, w.Employer...)
		b = append(b, ',')
		b = append(b, w.Quarter.String()...)
		b = append(b, ',')
		b = strconv.AppendInt(b, w.Wages, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, w.Bonus, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(w.Days), 10)
		b = append(b, ',')
		b = strconv.AppendFloat(b, w.Hours, 'f', -1, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, w.Fraction, 'f', -1, 64)
		b = append(b, ',')
		b = append(b, w.Contribution...)
		return append(b, '\n')
	}
	b = append(b, `{"person":"`...)
	b = append(b, w.Person...)
	b = append(b, `","employer":"`...)
	b = append(b, w.Employer...)
	b = append(b, `","quarter":"`...)
	b = append(b, w.Quarter.String()...)
	b = append(b, `","wages":`...)
	b = strconv.AppendInt(b, w.Wages, 10)
	b = append(b, `,"bonus":`...)
	b = strconv.AppendInt(b, w.Bonus, 10)
	b = append(b, `,"days":`...)
	b = strconv.AppendInt(b, int64(w.Days), 10)
	b = append(b, `,"hours":`...)
	b = strconv.AppendFloat(b, w.Hours, 'f', -1, 64)
	b = append(b, `,"fraction":`...)
	b = strconv.AppendFloat(b, w.Fraction, 'f', -1, 64)
	b = append(b, `,"contribution":"`...)
	b = append(b, w.Contribution...)
	return append(b, "\"}\n"...)
}

// CSVHeader is the first line of a CSV quarterly file.
const CSVHeader = "person,employer,quarter,wages,bonus,days,hours,fraction,contribution\n"

// Plausible draws the quarter's line of relation r, deterministically from the worker and
// employer: days and hours in proportion to the fraction (65 working days a quarter,
// 7.6 hours a day), a monthly wage between 2,000 and 6,000 full-time, a bonus now and then.
func Plausible(q Quarter, r Relation) WageLine {
	h := fnv.New64a()
	h.Write([]byte(r.Person))
	h.Write([]byte(r.Employer))
	x := h.Sum64()
	days := int(65*r.Fraction + 0.5)
	monthly := int64(200_000 + x%400_000) // cents, full-time
	w := WageLine{Person: r.Person, Employer: r.Employer, Quarter: q, Days: days,
		Hours: float64(days) * 76 / 10, Fraction: r.Fraction, Wages: int64(float64(3*monthly) * r.Fraction)}
	if x>>32%4 == 0 {
		w.Bonus = monthly / 2
	}
	return w
}
