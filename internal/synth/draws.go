package synth

import (
	"math/rand/v2"
	"slices"

	"github.com/crossroads-hub/crossroads/internal/date"
)

// rnd adds the few draws the generator needs to a PCG source. Every draw is an integer
// so that the nation does not depend on how a platform rounds floating point.
type rnd struct{ *rand.Rand }

// Streams of a seed: the nation's map and institutions, and its households.
const (
	streamNation = 0x9e3779b97f4a7c15
	streamPeople = 0xc2b2ae3d27d4eb4f
)

func newRnd(seed, stream uint64) rnd {
	return rnd{rand.New(rand.NewPCG(seed, seed^stream))}
}

// between returns a number from lo to hi inclusive; lo when hi < lo.
func (r rnd) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.IntN(hi-lo+1)
}

// chance reports true pct times in a hundred.
func (r rnd) chance(pct int) bool { return r.IntN(100) < pct }

// oneOf returns an element of list.
func oneOf[T any](r rnd, list []T) T { return list[r.IntN(len(list))] }

// picker draws an index with fixed integer weights.
type picker struct{ cum []uint64 }

// weights returns a picker over len(ws) items, item i weighing ws[i].
func weights(ws ...int) picker {
	p := picker{cum: make([]uint64, len(ws))}
	var t uint64
	for i, w := range ws {
		t += uint64(w)
		p.cum[i] = t
	}
	return p
}

// zipf returns a picker over n items where item i weighs 1/(i+offset): a few common
// items and a long tail, like names, towns and employers.
func zipf(n, offset int) picker {
	p := picker{cum: make([]uint64, n)}
	var t uint64
	for i := range n {
		t += (1 << 40) / uint64(i+offset)
		p.cum[i] = t
	}
	return p
}

// pick draws an index.
func (p picker) pick(r rnd) int {
	x := r.Uint64N(p.cum[len(p.cum)-1])
	i, _ := slices.BinarySearch(p.cum, x+1)
	return i
}

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
