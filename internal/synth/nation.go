package synth

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// Place kinds.
const (
	kindRegion       = "region"
	kindMunicipality = "municipality"
)

// geography is the map of the nation: regions, municipalities and how people spread
// over them.
type geography struct {
	regions []population.Place
	munis   []population.Place
	region  []int    // region index of each municipality
	postal  []string // postal code of each municipality
	people  picker   // where a new household settles: big towns draw more
}

// municipalities returns how many municipalities a nation of persons has: one per 2,000
// inhabitants, at least 12 so every region has a few, at most 600 so the list stays readable.
func municipalities(persons int) int {
	return min(max(persons/2000, 12), 600)
}

// newGeography draws 6–10 regions and the municipalities. Municipality i lies in region
// i mod regions, so the first municipality of every region is its largest town.
func newGeography(r rnd, persons int) geography {
	nr, nm := r.between(6, 10), municipalities(persons)
	g := geography{region: make([]int, nm), postal: make([]string, nm)}
	names := append([]string(nil), regionNames...)
	r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	seen := map[string]bool{}
	for i := range nr {
		seen[names[i]] = true
		g.regions = append(g.regions, population.Place{Code: regionCode(i), Name: names[i], Kind: kindRegion})
	}
	step := 9000 / nm
	for i := range nm {
		g.region[i] = i % nr
		g.postal[i] = strconv.Itoa(1000 + i*step)
		g.munis = append(g.munis, population.Place{
			Code: muniCode(i), Name: placeName(r, seen), Kind: kindMunicipality, Parent: regionCode(i % nr),
		})
	}
	g.people = zipf(nm, 2)
	return g
}

func regionCode(i int) string { return fmt.Sprintf("R%02d", i+1) }
func muniCode(i int) string   { return fmt.Sprintf("M%04d", i+1) }

// placeName draws a town name not drawn before.
func placeName(r rnd, seen map[string]bool) string {
	for {
		n := oneOf(r, placeHeads) + oneOf(r, placeMids) + oneOf(r, placeTails)
		if !seen[n] {
			seen[n] = true
			return n
		}
	}
}

// places returns regions then municipalities, as the register stores them.
func (g geography) places() []population.Place {
	return append(append([]population.Place(nil), g.regions...), g.munis...)
}

// Employers are directory institutions of their own sector and kind, coded "E" + their
// enterprise number.
const (
	employerSector = "employer"
	employerKind   = "employer"
)

var (
	trades = strings.Fields(`Bakery Logistics Construction Engineering Consulting Foods Printing
		Garage Pharmacy Transport Textiles Software Cleaning Plumbing Electrics Hotels Brewery
		Steelworks Dairy Furniture Security Catering Architects Accountants Nurseries Pharma
		Chemicals Packaging Glassworks Bookshops Florists Opticians Insurance Motors Timber`)
	legalForms = []string{" NV", " SA", " SRL", " BV", " Ltd", " & Co", ""}
)

// economy is the employers of the nation and how jobs spread over them.
type economy struct {
	employers []directory.Institution
	jobs      picker // which employer a new employee works for: few big, many small
}

// employerCount returns how many employers a nation of persons has: one per 25 persons.
func employerCount(persons int) int { return max(3, persons/25) }

// newEconomy draws the employers. Enterprise numbers are a function of the employer's
// rank only, so the largest employer (the fixture's) has the same number in every nation.
func newEconomy(r rnd, geo geography, persons int) (economy, error) {
	n := employerCount(persons)
	e := economy{employers: make([]directory.Institution, 0, n), jobs: zipf(n, 8)}
	for i := range n {
		ent, err := ident.MakeEnterprise(3_000_000 + i*17)
		if err != nil {
			return e, err
		}
		code := "E" + ent.String()
		sites := 1
		switch {
		case i < n/50 || i < 3:
			sites = 3
		case i < n/10 || r.chance(10):
			sites = 2
		}
		var est []string
		for j := range sites {
			u, err := ident.MakeEstablishment(20_000_000 + i*4 + j)
			if err != nil {
				return e, err
			}
			est = append(est, u.String())
		}
		e.employers = append(e.employers, directory.Institution{
			Code: code, Name: employerName(r, geo), Sector: employerSector, Kind: employerKind,
			Enterprise: ent.String(), Establishments: est,
			Contact: contact(r, "hr@"+strings.ToLower(code)+".example"),
		})
	}
	return e, nil
}

// employerName invents a trade name: a family business, a partnership or a local firm.
func employerName(r rnd, geo geography) string {
	var name string
	switch r.IntN(4) {
	case 0:
		name = oneOf(r, familyNames) + " & " + oneOf(r, familyNames)
	case 1:
		name = oneOf(r, familyNames) + " " + oneOf(r, trades)
	case 2:
		name = oneOf(r, geo.munis).Name + " " + oneOf(r, trades)
	default:
		name = oneOf(r, trades) + " " + oneOf(r, familyNames)
	}
	return name + oneOf(r, legalForms)
}

// nation is what every pass shares: the map, the network, the employers and the bands.
type nation struct {
	cfg   Config
	geo   geography
	net   network
	eco   economy
	bands []band
	sizes []int // about how many persons each band holds
}

// newNation draws the parts of the nation that come before its persons.
func newNation(ctx context.Context, cfg Config) (*nation, error) {
	n := &nation{cfg: cfg}
	r := newRnd(cfg.Seed, streamNation)
	n.geo = newGeography(r, cfg.Persons)
	n.net = newNetwork(r, n.geo)
	n.net.authorize(cfg.Today)
	n.net.authorizeRights(cfg.Today)
	n.net.subscribe()
	n.net.deliveryChain(cfg.Today)
	var err error
	if n.eco, err = newEconomy(r, n.geo, cfg.Persons); err != nil {
		return nil, err
	}
	n.bands, n.sizes, err = plan(ctx, n)
	return n, err
}

// pass prepares a pass over band i.
func (n *nation) pass(p pass, i int) *gen {
	return newGen(n.cfg, p, n.bands[i], n.sizes[i], n.geo, n.net, n.eco)
}

// summary completes the persons' summary with the rest of the nation.
func (n *nation) summary(s Summary) Summary {
	s.Places, s.Employers = len(n.geo.regions)+len(n.geo.munis), len(n.eco.employers)
	s.Institutions, s.Applications, s.Services = len(n.net.institutions), len(n.net.applications), len(n.net.services)
	s.Authorizations, s.Subscriptions = len(n.net.authorizations), len(n.net.subscriptions)
	return s
}
