package synth

import (
	"fmt"
	"strconv"

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
