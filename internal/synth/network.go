package synth

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/derived"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

// Codes of the institutions every nation has. Child-benefit funds (ChildBenefitPrefix +
// NORTH, SOUTH, EAST, WEST) serve 2–3 regions each; CityPrefix + region code ("CITY-R01")
// stands for the municipalities of a region.
const (
	CivilRegistry      = "CIVIL-REGISTRY"
	SocialRegistry     = "SOCIAL-REGISTRY"
	PensionFund        = "PENSION-FUND"
	HealthInsurer1     = "HEALTH-INSURER-1"
	HealthInsurer2     = "HEALTH-INSURER-2"
	HealthInsurer3     = "HEALTH-INSURER-3"
	EmploymentService  = "EMPLOYMENT-SERVICE"
	TaxOffice          = "TAX-OFFICE"
	Museum             = "MUSEUM"
	ChildBenefitPrefix = "CHILD-BENEFIT-"
	CityPrefix         = "CITY-"
)

// The services of the built-in sources: the civil register's, and those of the registries
// derived from it (internal/derived).
const (
	CivilPerson          = "civil-person"
	SocialMember         = "social-member"
	BeneficiaryEnrolment = "beneficiary-enrolment"
	DisabilityStatus     = "disability-status"
	FarmerRecord         = "farmer-record"
	// WorkerEmployment is the employment source's (#18). Its id sorts after
	// social-member, which stays the social registry's service for a search that names
	// none (the first by id).
	WorkerEmployment = "worker-employment"
)

// RegistryServices names the service of each derived registry (internal/derived), under
// which its changes are routed.
var RegistryServices = map[string]string{derived.Social: SocialMember, derived.Beneficiary: BeneficiaryEnrolment,
	derived.Disability: DisabilityStatus, derived.Farmer: FarmerRecord}

// Fixture identifiers of the derived registries: the fixture person's UIN in the social
// registry, its farmer id, and its member identifier in the disability registry (where
// it is a member with difficulties that call for support, as test tools expect).
const (
	FixtureUIN      = "TEST-001"
	FixtureFarmerID = "FARMER-TEST-001"
	FixtureDRMember = "DR-MEMBER-001"
)

// Capacities in which the generated institutions hold files on persons.
const (
	CapacityMember    = directory.CapacityDefinitive // insured, resident, the fixture's files
	CapacityPensioner = "001"
	CapacityChild     = "010"
	CapacityParent    = "011" // the parent who receives child benefit
	CapacityJobseeker = "020"
	CapacityEmployee  = "030"
)

var fundDirections = []string{"NORTH", "SOUTH", "EAST", "WEST"}

// Field groups of the civil-person service.
var (
	identityFields = []string{"person", "brn", "given_name", "family_name", "sex", "birth_date"}
	addressFields  = []string{"address.street", "address.house_number", "address.postal_code", "address.municipality", "address.region"}
	civilFields    = fieldList(identityFields, []string{"birth_place", "death_date"}, addressFields,
		[]string{"mother", "father", "marital_status", "spouse", "nationality", "household"})
)

// fieldList joins field groups, keeping the first of duplicates (the directory refuses them).
func fieldList(groups ...[]string) []string {
	var out []string
	seen := map[string]bool{}
	for _, g := range groups {
		for _, f := range g {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out
}

// network is the directory content that does not depend on persons.
type network struct {
	institutions   []directory.Institution
	applications   []directory.Application
	services       []directory.Service
	authorizations []directory.Authorization
	subscriptions  []directory.Subscription
	funds          []string // child-benefit fund of each region
	cities         []string // municipal institution of each region
}

// newNetwork lists the institutions of a nation of regions, with their applications.
func newNetwork(r rnd, geo geography) network {
	var n network
	nr := len(geo.regions)
	nf := (nr + 2) / 3
	for i := range nr {
		n.funds = append(n.funds, ChildBenefitPrefix+fundDirections[i*nf/nr])
		n.cities = append(n.cities, CityPrefix+geo.regions[i].Code)
	}
	add := func(code, name, sector, kind string) {
		n.institutions = append(n.institutions, institution(r, len(n.institutions), code, name, sector, kind))
	}
	add(CivilRegistry, "Civil Registry and Population Register", "civil", "authentic_source")
	add(SocialRegistry, "National Social Registry", "social", "authentic_source")
	add(PensionFund, "National Pension Fund", "pensions", "fund")
	for _, d := range fundDirections[:nf] {
		add(ChildBenefitPrefix+d, "Child Benefit Fund "+strings.ToLower(d[:1])+strings.ToLower(d[1:]), "family", "fund")
	}
	add(HealthInsurer1, "Meridian Mutual Health Fund", "health", "insurer")
	add(HealthInsurer2, "Harbour Health Mutual", "health", "insurer")
	add(HealthInsurer3, "Union of Independent Health Funds", "health", "insurer")
	add(EmploymentService, "Public Employment Service", "employment", "service")
	add(TaxOffice, "Federal Tax Office", "tax", "administration")
	for i, c := range n.cities {
		add(c, "Municipalities of "+geo.regions[i].Name, "local", "municipality")
	}
	add(Museum, "National Museum of History", "culture", "other")
	for _, in := range n.institutions {
		n.applications = append(n.applications, application(in))
	}
	n.services = []directory.Service{{
		ID: CivilPerson, Institution: CivilRegistry, Registry: "civil", Name: "Persons of the civil register",
		DataSets: []string{"identity", "address", "family", "vital"}, Fields: civilFields, Endpoint: "builtin:civil",
	}, {
		ID: SocialMember, Institution: SocialRegistry, Registry: "social", Name: "Members and households of the social registry",
		DataSets: []string{"household", "income", "poverty"}, Fields: derived.Fields[derived.Social], Endpoint: "builtin:" + derived.Social,
	}, {
		ID: BeneficiaryEnrolment, Institution: SocialRegistry, Registry: "beneficiary", Name: "Enrolments of the integrated beneficiary registry",
		DataSets: []string{"programmes"}, Fields: derived.Fields[derived.Beneficiary], Endpoint: "builtin:" + derived.Beneficiary,
	}, {
		ID: DisabilityStatus, Institution: SocialRegistry, Registry: "disability", Name: "Functional difficulties (Washington Group) of the disability registry",
		DataSets: []string{"functioning"}, Fields: derived.Fields[derived.Disability], Endpoint: "builtin:" + derived.Disability,
	}, {
		ID: WorkerEmployment, Institution: SocialRegistry, Registry: "social", Name: "Employment periods and quarterly wages of workers, from employers' declarations",
		DataSets: []string{"employment", "wages"}, Fields: employment.Fields, Endpoint: "builtin:" + employment.SourceName,
	}, {
		ID: FarmerRecord, Institution: SocialRegistry, Registry: "farmer", Name: "Farmers, land and crops of the farmer registry",
		DataSets: []string{"farm"}, Fields: derived.Fields[derived.Farmer], Endpoint: "builtin:" + derived.Farmer,
	}, {
		// The competent institutions of the social risks employers declare (#18): a
		// declaration is routed to the service's institution, which acknowledges it.
		ID: employment.RiskServicePrefix + employment.Incapacity, Institution: HealthInsurer1, Registry: "social",
		Name: "Declarations of incapacity for work, from employers", DataSets: []string{"social_risks"},
		Fields: []string{"risk_declarations"}, Endpoint: "builtin:social_risk",
	}, {
		ID: employment.RiskServicePrefix + employment.Unemployment, Institution: EmploymentService, Registry: "social",
		Name: "Declarations of unemployment, from employers", DataSets: []string{"social_risks"},
		Fields: []string{"risk_declarations"}, Endpoint: "builtin:social_risk",
	}}
	return n
}

// institution returns a network member. Enterprise numbers come from a block apart from
// the employers' so the two never collide.
func institution(r rnd, i int, code, name, sector, kind string) directory.Institution {
	ent, err := ident.MakeEnterprise(2_000_000 + i*101)
	if err != nil {
		panic(err) // the base is a constant block well inside the range
	}
	return directory.Institution{
		Code: code, Name: name, Sector: sector, Kind: kind, Enterprise: ent.String(),
		Contact: contact(r, "contact@"+strings.ToLower(code)+".example"),
	}
}

// contact invents a responsible person. +999 is not assigned to any country.
func contact(r rnd, email string) directory.Contact {
	name := oneOf(r, femaleNames)
	if r.chance(50) {
		name = oneOf(r, maleNames)
	}
	return directory.Contact{
		Name: name + " " + oneOf(r, familyNames), Email: email,
		Phone: fmt.Sprintf("+999 2 %03d %02d %02d", r.IntN(1000), r.IntN(100), r.IntN(100)),
	}
}

// application is the one client every network member has, without keys: the demo and
// the tests give it a secret or a key when they need one.
func application(in directory.Institution) directory.Application {
	return directory.Application{
		ID: AppID(in.Code), Institution: in.Code, Name: in.Name + " back office",
		Status: directory.StatusActive, Keys: []json.RawMessage{},
		AuthMethods: []string{directory.AuthClientSecret, directory.AuthPrivateKeyJWT},
	}
}

// AppID returns the id of the application of a network institution: "pension-fund-app".
func AppID(code string) string { return strings.ToLower(code) + "-app" }
