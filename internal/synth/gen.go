package synth

import (
	"fmt"
	"strconv"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// member is a person being generated, with its dates also as day numbers for arithmetic.
type member struct {
	population.Person
	born, died int  // day numbers; died is 0 while alive
	kept       bool // in the band of the pass: its persons, events or lines are kept
	fixture    bool // the fixture person, whose files are fixed rather than drawn
}

// home is a household: an address shared by its members.
type home struct {
	id      string
	addr    population.Address
	region  int    // region index
	insurer string // the health insurer of the whole household
	nat     string // nationality of its members
	since   int    // day the household moved in; 0: its members always lived there
	movable bool   // households of the living may have moved; those of the dead did not
	members []*member
}

// unit is what one draw of the household mix produces: one household, or two for a
// separated couple, with the events and child-benefit files that tie them together.
type unit struct {
	homes   []*home
	events  []population.Event
	kids    []*member // children of the parents, in birth order, living in homes[0]
	parents []*member
}

// gen draws the nation household by household and keeps what its pass keeps of the
// persons of its band (see bands.go). It is used by one goroutine.
type gen struct {
	pass    pass
	band    band
	r       rnd
	geo     geography
	net     network
	eco     economy
	total   int // persons to draw
	today   int // day numbers
	first   int // 1900-01-01, the first birth day a person number can encode
	seq     [2][]uint16
	brn     []int32 // BRNs issued per birth year since 1900
	names   [3]picker
	insurer picker
	homes   int
	kept    int // persons of the band
	u       unit
	arena   arena
	err     error // the first failure; drawing goes on harmlessly and run reports it

	persons []population.Person
	events  []population.Event
	lines   []directory.Line
	sum     Summary
}

// newGen prepares a pass over band, which holds about size persons.
func newGen(cfg Config, p pass, b band, size int, geo geography, net network, eco economy) *gen {
	g := &gen{pass: p, band: b, r: newRnd(cfg.Seed, streamPeople), geo: geo, net: net, eco: eco,
		total: cfg.Persons, today: dayNum(cfg.Today), first: dayNum(date.Of(1900, 1, 1))}
	days := g.today - g.first + 1
	g.seq = [2][]uint16{make([]uint16, days), make([]uint16, days)}
	g.brn = make([]int32, cfg.Today.Year()-1900+1)
	g.names = [3]picker{zipf(len(maleNames), 6), zipf(len(femaleNames), 6), zipf(len(familyNames), 12)}
	g.insurer = weights(45, 35, 20)
	// Capacities from the averages (2.1 events and 3 lines a person) spare regrowing
	// slices of large structs.
	switch p {
	case populationPass:
		g.persons = make([]population.Person, 0, size+size/50+16)
		g.events = make([]population.Event, 0, size*22/10+64)
	case directoryPass:
		g.lines = make([]directory.Line, 0, size*31/10+64)
	}
	return g
}

// enrol gives m its person number and BRN. When the 499 sequences of m's sex on its
// birth day are taken, the birth moves a day earlier: only nations of tens of millions
// come near that.
func (g *gen) enrol(m *member) {
	sex := 0
	if m.Sex == "female" {
		sex = 1
	}
	for m.born >= g.first && g.seq[sex][m.born-g.first] >= 499 {
		m.born--
	}
	if m.born < g.first {
		g.fail(fmt.Errorf("synth: no person number left for births up to %s", fromDayNum(m.born+1)))
		m.born = g.first
	}
	g.seq[sex][m.born-g.first]++
	seq := 2*int(g.seq[sex][m.born-g.first]) - 1 + sex
	d := fromDayNum(m.born)
	pn, err := ident.MakePerson(d.Year(), d.Month(), d.Day(), seq, ident.Register)
	if err != nil {
		g.fail(fmt.Errorf("synth: person number for %s: %w", d, err))
	}
	m.Number, m.BirthDate = pn.String(), d
	if p := prefix(m.born); p >= g.band.lo && p < g.band.hi {
		m.kept = true
	}
	y := d.Year() - 1900
	g.brn[y]++
	m.BRN = brnOf(d.Year(), int(g.brn[y]))
}

func (g *gen) fail(err error) {
	if g.err == nil {
		g.err = err
	}
}

// brnOf formats a birth registration number, "BRN-YYYY-NNNNNNN".
func brnOf(year, n int) string {
	b := make([]byte, 0, 16)
	b = append(b, "BRN-"...)
	b = strconv.AppendInt(b, int64(year), 10)
	b = append(b, '-')
	return string(appendPadded(b, n, 7))
}

// householdID formats a household id, "H" and nine digits.
func householdID(n int) string { return string(appendPadded([]byte{'H'}, n, 9)) }

func appendPadded(b []byte, n, width int) []byte {
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// person draws a new person born on born, not yet in any household.
func (g *gen) person(born int, male bool, family, birthPlace string) *member {
	m := g.arena.member()
	m.born = born
	m.Sex, m.GivenName = "female", femaleNames[g.names[1].pick(g.r)]
	if male {
		m.Sex, m.GivenName = "male", maleNames[g.names[0].pick(g.r)]
	}
	m.FamilyName, m.BirthPlace, m.MaritalStatus = family, birthPlace, population.Single
	g.enrol(m)
	return m
}

func (g *gen) familyName() string { return familyNames[g.names[2].pick(g.r)] }

// join makes m a member of h.
func (g *gen) join(h *home, m *member) *member {
	m.Address, m.Household, m.Nationality = h.addr, h.id, h.nat
	h.members = append(h.members, m)
	return m
}

// arena recycles the members and households of a unit: finish copies out what is kept,
// and a million persons would otherwise mean a million short-lived allocations per draw.
type arena struct {
	members []member
	homes   []home
}

// member returns a zeroed member that stays valid until reset.
func (a *arena) member() *member {
	if len(a.members) == cap(a.members) {
		return &member{} // a unit larger than any drawn so far; the next reset makes room
	}
	a.members = a.members[:len(a.members)+1]
	m := &a.members[len(a.members)-1]
	*m = member{}
	return m
}

// home returns a zeroed household that stays valid until reset, keeping its members'
// backing array.
func (a *arena) home() *home {
	if len(a.homes) == cap(a.homes) {
		return &home{}
	}
	a.homes = a.homes[:len(a.homes)+1]
	h := &a.homes[len(a.homes)-1]
	*h = home{members: h.members[:0]}
	return h
}

// reset recycles everything handed out; the arena grows to the largest unit seen.
func (a *arena) reset(members, homes int) {
	if members > cap(a.members) {
		a.members = make([]member, 0, members)
	}
	if homes > cap(a.homes) {
		a.homes = make([]home, 0, homes)
	}
	a.members, a.homes = a.members[:0], a.homes[:0]
}
