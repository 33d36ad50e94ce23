package synth

import (
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/population"
)

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
	m := &member{born: dayNum(FixtureBorn), fixture: true}
	m.GivenName, m.FamilyName, m.Sex = FixtureGivenName, FixtureFamilyName, "male"
	m.BirthPlace, m.MaritalStatus = h.addr.Municipality, population.Single
	g.enrol(m)
	m.BRN = FixtureBRN
	g.join(h, m)
}
