package synth

import "github.com/crossroads-hub/crossroads/internal/population"

// The household mix. Weights are per draw, not per person: a family draw adds three to six
// persons, a single draw one. With these weights about a fifth of the living are minors,
// a sixth are 65 or older, and about a tenth of the register is deceased.
const (
	unitSingle = iota
	unitYoungCouple
	unitOlderCouple
	unitFamily
	unitSplit
	unitElderly
	unitWidowed
	unitDeadCouple
	unitDeadSingle
)

var (
	unitMix  = weights(26, 7, 13, 28, 7, 10, 7, 4, 10)
	unitMin  = [...]int{1, 2, 2, 3, 3, 2, 2, 2, 1} // persons a draw adds at least
	childMix = weights(35, 40, 18, 7)              // 1–4 children
)

// draw adds one unit of at most room persons.
func (g *gen) draw(room int) {
	k := unitMix.pick(g.r)
	if unitMin[k] > room {
		k = unitSingle
	}
	switch k {
	case unitSingle:
		g.single()
	case unitYoungCouple:
		g.couple(g.r.between(22, 38), 55)
	case unitOlderCouple:
		g.couple(g.r.between(45, 74), 85)
	case unitFamily, unitSplit:
		g.family(k == unitSplit, room)
	case unitElderly:
		g.couple(g.elderAge(65, 97), 92)
	case unitWidowed:
		g.widowed()
	case unitDeadCouple:
		g.deadCouple()
	case unitDeadSingle:
		g.deadSingle()
	}
}

// single is an adult living alone: mostly young, some middle-aged, some elderly.
func (g *gen) single() {
	h := g.newHome(true)
	var age int
	switch x := g.r.IntN(100); {
	case x < 55:
		age = g.r.between(20, 44)
	case x < 80:
		age = g.r.between(45, 64)
	default:
		age = g.elderAge(65, 99)
	}
	g.adult(h, g.bornAged(age), g.r.chance(50), g.familyName())
	g.settle(h)
}

// couple is a woman aged age and a man of about her age, married marriedPct times in
// a hundred, without children at home.
func (g *gen) couple(age, marriedPct int) {
	h := g.newHome(true)
	wBorn := g.bornAged(age)
	w := g.adult(h, wBorn, false, g.familyName())
	m := g.adult(h, g.clampBorn(wBorn-g.r.between(-2*year, 6*year), 20), true, g.familyName())
	if g.r.chance(marriedPct) {
		g.marry(m, w, g.weddingDay(m, w, g.today))
	}
	g.settle(h)
}

// family is two parents and one to four children aged up to 25. When split, the parents
// separated: the children live with one of them (mostly the mother), the other alone.
func (g *gen) family(split bool, room int) {
	eldest := g.bornAged(g.r.between(0, 25))
	mBorn := g.clampBorn(anniversary(eldest, -g.r.between(21, 36))-g.r.IntN(year), 20)
	fBorn := min(mBorn-g.r.between(-2*year, 6*year), anniversary(eldest, -20))
	fBorn = g.clampBorn(max(fBorn, anniversary(eldest, -44)), 20)
	h := g.newHome(true)
	mh, fh := h, h
	if split && g.r.chance(85) {
		fh = g.newHome(true)
	} else if split {
		mh = g.newHome(true)
	}
	mother := g.adult(mh, mBorn, false, g.familyName())
	father := g.adult(fh, fBorn, true, g.familyName())
	married := g.r.chance(78)
	if split {
		married = g.r.chance(55)
	}
	family := father.FamilyName
	if !married && g.r.chance(25) {
		family = mother.FamilyName
	}
	for _, x := range g.u.homes {
		g.settle(x)
	}
	last := anniversary(min(mBorn, fBorn), 45)
	n := min(childMix.pick(g.r)+1, room-2)
	for born := eldest; len(g.u.kids) < n && born <= g.today && born <= last; born += g.r.between(year, 5*year) {
		g.u.kids = append(g.u.kids, g.child(h, born, mother, father, family))
	}
	g.u.parents = []*member{mother, father}
	if married {
		wed := g.weddingDay(father, mother, eldest)
		g.marry(father, mother, wed)
		youngest := g.u.kids[len(g.u.kids)-1].born
		if lo := max(youngest+180, wed+year); split && lo < g.today {
			g.divorce(father, mother, g.r.between(lo, g.today-1))
		}
	}
}

// widowed is an elderly person living alone since the death of their spouse, who is
// in the register too.
func (g *gen) widowed() {
	h := g.newHome(false)
	female := g.r.chance(75)
	sBorn := g.bornAged(g.elderAge(68, 99))
	pBorn := sBorn - g.r.between(-3*year, 5*year)
	if pBorn < g.first {
		pBorn = g.bornAgedOn(sBorn, 0)
	}
	s := g.adult(h, sBorn, !female, g.familyName())
	p := g.adult(h, pBorn, female, g.familyName())
	lo := max(anniversary(pBorn, 55), g.today-20*year)
	death := g.r.between(lo, min(g.today-30, anniversary(pBorn, 100)))
	husband, wife := p, s
	if female {
		husband, wife = s, p
	}
	g.marry(husband, wife, g.weddingDay(husband, wife, death))
	g.die(p, s, death)
}

// deadCouple is a married couple who both died, the second some years after the first.
func (g *gen) deadCouple() {
	h := g.newHome(false)
	d1 := g.today - g.r.between(year, 35*year)
	b1 := g.bornAgedOn(d1, g.r.between(60, 95))
	b2 := min(b1+g.r.between(-5*year, 5*year), anniversary(d1, -40))
	if b2 < g.first {
		b2 = g.bornAgedOn(b1, 0)
	}
	d2 := min(d1+g.r.between(30, 15*year), g.today-1, anniversary(b2, 100))
	d2 = max(d2, d1+1)
	husbandFirst := g.r.chance(65)
	a := g.adult(h, b1, husbandFirst, g.familyName())
	b := g.adult(h, b2, !husbandFirst, g.familyName())
	husband, wife := a, b
	if !husbandFirst {
		husband, wife = b, a
	}
	g.marry(husband, wife, g.weddingDay(husband, wife, d1))
	g.die(a, b, d1)
	g.die(b, a, d2)
}

// deadSingle is someone who died unmarried in the last forty years, mostly old.
func (g *gen) deadSingle() {
	h := g.newHome(false)
	d := g.today - g.r.between(1, 40*year)
	var age int
	switch x := g.r.IntN(100); {
	case x < 75:
		age = g.r.between(65, 100)
	case x < 95:
		age = g.r.between(40, 64)
	default:
		age = g.r.between(0, 39)
	}
	g.die(g.adult(h, g.bornAgedOn(d, age), g.r.chance(50), g.familyName()), nil, d)
}

// elderAge draws an age from lo to hi, less likely the older: the survivors thin out.
func (g *gen) elderAge(lo, hi int) int {
	n := hi - lo + 1
	return lo + min(g.r.IntN(n), g.r.IntN(n))
}

// marry weds a man and a woman on day, with a marriage event for each.
func (g *gen) marry(husband, wife *member, day int) {
	husband.Spouse, wife.Spouse = wife.Number, husband.Number
	husband.MaritalStatus, wife.MaritalStatus = population.Married, population.Married
	g.event(population.EventMarriage, husband, day, "spouse", wife.Number)
	g.event(population.EventMarriage, wife, day, "spouse", husband.Number)
}

// divorce ends a marriage on day; the former spouses are no longer linked.
func (g *gen) divorce(husband, wife *member, day int) {
	g.event(population.EventDivorce, husband, day, "spouse", wife.Number)
	g.event(population.EventDivorce, wife, day, "spouse", husband.Number)
	husband.Spouse, wife.Spouse = "", ""
	husband.MaritalStatus, wife.MaritalStatus = population.Divorced, population.Divorced
}

// die records m's death on day; a living spouse becomes a widow(er) and stays linked.
func (g *gen) die(m, spouse *member, day int) {
	m.died, m.DeathDate = day, fromDayNum(day)
	g.event(population.EventDeath, m, day, "place", m.Address.Municipality)
	if spouse != nil && spouse.died == 0 && spouse.Spouse == m.Number {
		spouse.MaritalStatus = population.Widowed
	}
}
