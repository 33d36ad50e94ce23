package synth

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/directory"
)

// TestFixture checks what the package doc promises about the fixture person, for
// several seeds and sizes, since conformance suites rely on it.
func TestFixture(t *testing.T) {
	for _, c := range []struct {
		seed    uint64
		persons int
	}{{1, 1}, {2, 300}, {99, 4000}} {
		n := generate(t, c.seed, c.persons)
		p, err := n.pop.PersonByBRN(context.Background(), FixtureBRN)
		if err != nil {
			t.Fatalf("seed %d: fixture: %v", c.seed, err)
		}
		if p.Number != FixtureNumber || p.GivenName != FixtureGivenName || p.FamilyName != FixtureFamilyName ||
			p.BirthDate != FixtureBorn || !p.DeathDate.IsZero() || p.Household != FixtureHousehold ||
			p.Address.Municipality != "M0001" || p.Address.Region != "R01" || p.Address.Street != FixtureStreet {
			t.Errorf("seed %d: fixture = %+v", c.seed, p)
		}
		files, _ := n.dir.Files(context.Background(), p.Number, testToday)
		var got []string
		for _, f := range files {
			got = append(got, f.Institution+" "+f.Capacity+" "+f.Begin.String())
		}
		want := []string{"CITY-R01 000 1985-06-15", FixtureEmployer + " 030 2015-09-01", "HEALTH-INSURER-1 000 1985-06-15"}
		if !slices.Equal(got, want) {
			t.Errorf("seed %d: fixture files = %q; want %q", c.seed, got, want)
		}
	}
}

// TestNetwork checks the records the demo and the conformance tests name.
func TestNetwork(t *testing.T) {
	n := generate(t, 5, 2000)
	inst := n.dir.records[directory.KindInstitution]
	for _, code := range []string{CivilRegistry, SocialRegistry, PensionFund, HealthInsurer1, HealthInsurer2,
		HealthInsurer3, EmploymentService, TaxOffice, Museum, "CHILD-BENEFIT-NORTH", "CITY-R01", FixtureEmployer} {
		if _, ok := inst[code]; !ok {
			t.Errorf("institution %s is missing", code)
		}
		if _, ok := n.dir.records[directory.KindApplication][AppID(code)]; !ok && code != FixtureEmployer {
			t.Errorf("application %s is missing", AppID(code))
		}
	}
	var svc directory.Service
	if err := json.Unmarshal(n.dir.records[directory.KindService][CivilPerson].Doc, &svc); err != nil {
		t.Fatal(err)
	}
	if len(svc.Fields) != 19 || svc.Endpoint != "builtin:civil" {
		t.Errorf("civil-person service = %+v; want 19 fields at builtin:civil", svc)
	}
	for _, r := range n.dir.records[directory.KindAuthorization] {
		var a directory.Authorization
		if err := json.Unmarshal(r.Doc, &a); err != nil {
			t.Fatal(err)
		}
		switch {
		case a.Institution == Museum:
			t.Errorf("MUSEUM has authorization %s", a.ID)
		case a.Institution == TaxOffice && a.ValidOn(testToday):
			t.Errorf("TAX-OFFICE authorization %s is in force; want it expired", a.ID)
		case a.Institution != TaxOffice && !a.ValidOn(testToday):
			t.Errorf("authorization %s of %s is not in force", a.ID, a.Institution)
		}
	}
	for _, l := range n.dir.lines {
		if l.Institution == Museum || l.Institution == TaxOffice {
			t.Errorf("%s has a file on %s", l.Institution, l.Person)
		}
	}
}
