package synth

import (
	"strconv"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// Nationality is the nationality of most of the register: a code of the ISO 3166-1
// user-assigned range, so the fictional nation never claims a real country's code.
const Nationality = "XCR"

var insurers = []string{HealthInsurer1, HealthInsurer2, HealthInsurer3}

const year = 365 // days; the generator's periods are approximate on purpose

// newHome draws a household's municipality, address, insurer and nationality.
func (g *gen) newHome(movable bool) *home {
	return g.homeIn(g.geo.people.pick(g.r), movable)
}

// homeIn makes a household in municipality mi.
func (g *gen) homeIn(mi int, movable bool) *home {
	g.homes++
	h := g.arena.home()
	h.id, h.region, h.movable = householdID(g.homes), g.geo.region[mi], movable
	h.insurer, h.nat = insurers[g.insurer.pick(g.r)], Nationality
	if g.r.chance(8) {
		h.nat = foreignCodes[foreignPicker.pick(g.r)]
	}
	h.addr.Street = streets[g.r.IntN(len(streetBases))][g.r.IntN(len(streetKinds))]
	h.addr.HouseNumber = g.houseNumber()
	h.addr.PostalCode = g.geo.postal[mi]
	h.addr.Municipality = g.geo.munis[mi].Code
	h.addr.Region = g.geo.regions[h.region].Code
	g.u.homes = append(g.u.homes, h)
	return h
}

// Street names and house numbers are made once: a household is drawn every two persons.
var (
	streets      = streetNames()
	houseNumbers = numbers(240)
)

func streetNames() [][]string {
	s := make([][]string, len(streetBases))
	for i, b := range streetBases {
		for _, k := range streetKinds {
			s[i] = append(s[i], b+" "+k)
		}
	}
	return s
}

// numbers returns "1" to n.
func numbers(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = strconv.Itoa(i + 1)
	}
	return s
}

// houseNumber favours low numbers, as streets are mostly short, and sometimes adds a letter.
func (g *gen) houseNumber() string {
	n := houseNumbers[g.r.IntN(g.r.IntN(240)+1)]
	if g.r.chance(6) {
		n += oneOf(g.r, []string{"A", "B", "C"})
	}
	return n
}

// settle decides whether a household of adults moved in recently, after every adult
// came of age: one in ten did, within the last ten years. Call it before adding children.
func (g *gen) settle(h *home) {
	if !h.movable || !g.r.chance(10) {
		return
	}
	lo := g.today - 10*year
	for _, m := range h.members {
		lo = max(lo, anniversary(m.born, 18))
	}
	if hi := g.today - 30; lo <= hi {
		h.since = g.r.between(lo, hi)
	}
}

// adult adds a person born on born to h, born in a municipality drawn like residences.
func (g *gen) adult(h *home, born int, male bool, family string) *member {
	place := g.geo.munis[g.geo.people.pick(g.r)].Code
	return g.join(h, g.person(born, male, family, place))
}

// child adds a child of mother and father (either may be nil) to h. A child born before
// the household moved in was born elsewhere.
func (g *gen) child(h *home, born int, mother, father *member, family string) *member {
	place := h.addr.Municipality
	if born < h.since {
		place = g.geo.munis[g.geo.people.pick(g.r)].Code
	}
	c := g.join(h, g.person(born, g.r.chance(51), family, place))
	if mother != nil {
		c.Mother = mother.Number
	}
	if father != nil {
		c.Father = father.Number
	}
	return c
}

// bornAged draws a birth day for someone aged age today.
func (g *gen) bornAged(age int) int { return g.bornAgedOn(g.today, age) }

// bornAgedOn draws a birth day for someone aged age on day. Person numbers start in 1900,
// so whoever would be born earlier is born in 1900 instead, spread over the year rather
// than piled on its first day, whose sequences would run out.
func (g *gen) bornAgedOn(day, age int) int {
	lo, hi := anniversary(day, -(age+1))+1, anniversary(day, -age)
	if lo < g.first {
		lo, hi = g.first, min(g.first+year-1, day-1)
	}
	return g.r.between(lo, hi)
}

// clampBorn keeps a living adult's birth day between 100 and minAge years ago.
func (g *gen) clampBorn(born, minAge int) int {
	lo := max(anniversary(g.today, -100)+1, g.first)
	return min(max(born, lo), anniversary(g.today, -minAge))
}

// weddingDay draws a wedding in the ten years after both partners turned 20, and no
// later than latest.
func (g *gen) weddingDay(a, b *member, latest int) int {
	lo := max(anniversary(a.born, 20), anniversary(b.born, 20))
	hi := min(lo+10*year, latest)
	return g.r.between(min(lo, latest), hi)
}

// The fixture person, the same in every nation: conformance suites look it up by BRN.
const (
	FixtureBRN        = "BIRTH-TEST-001"
	FixtureNumber     = "85061500118" // 1985-06-15, sequence 001 (a man)
	FixtureGivenName  = "Test"
	FixtureFamilyName = "Fixture"
	FixtureHousehold  = "H000000001"
	FixtureStreet     = "Registry Square"
	FixtureEmployer   = "E0300000016" // the largest employer, capacity 030
)

// Dates of the fixture person: birth, and hiring by the largest employer.
var (
	FixtureBorn  = date.Of(1985, 6, 15)
	FixtureHired = date.Of(2015, 9, 1)
)

// fixture adds the fixture person, alone in the first household, in the first
// municipality of the first region.
func (g *gen) fixture() {
	h := g.homeIn(0, false)
	h.insurer, h.nat = HealthInsurer1, Nationality
	h.addr.Street, h.addr.HouseNumber = FixtureStreet, "1"
	m := g.arena.member()
	m.born, m.fixture = dayNum(FixtureBorn), true
	m.GivenName, m.FamilyName, m.Sex = FixtureGivenName, FixtureFamilyName, "male"
	m.BirthPlace, m.MaritalStatus = h.addr.Municipality, population.Single
	g.enrol(m)
	m.BRN = FixtureBRN
	g.join(h, m)
}
