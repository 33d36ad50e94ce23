package synth

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/derived"
	"github.com/crossroads-hub/crossroads/internal/directory"
)

// deliberation is the template of one authorization; its dates are counted back from
// today so that every nation has deliberations of a plausible age.
type deliberation struct {
	service               string // "": the civil register's
	yearsBack, month, day int
	number                int // number of the decision within its year
	fields                []string
	capacities            []string
	purpose, legalBasis   string
}

const crossroadsAct = "Crossroads Bank Act, art. 5"

// authorize adds the authorizations of the network, all on the civil-person service.
func (n *network) authorize(today date.Date) {
	add := func(inst string, d deliberation) {
		n.authorizations = append(n.authorizations, d.authorization(inst, today))
	}
	add(PensionFund, deliberation{"", 7, 3, 19, 14,
		fieldList(identityFields, []string{"death_date"}, addressFields, []string{"marital_status", "spouse"}),
		[]string{CapacityPensioner}, "Award, payment and review of retirement and survivor pensions",
		crossroadsAct + "; Pensions Act, art. 21"})
	for i, f := range uniq(n.funds) {
		add(f, deliberation{"", 6, 5, 2, 31 + i,
			fieldList(identityFields, []string{"birth_date", "mother", "father"}, addressFields, []string{"household"}),
			[]string{CapacityChild, CapacityParent}, "Award and payment of child benefits and their supplements",
			crossroadsAct + "; Child Benefit Decree, art. 8"})
	}
	for i, h := range []string{HealthInsurer1, HealthInsurer2, HealthInsurer3} {
		add(h, deliberation{"", 5, 9, 14, 47 + i, fieldList(identityFields, []string{"death_date"}, addressFields),
			[]string{CapacityMember}, "Membership, reimbursement of health care and incapacity benefits",
			crossroadsAct + "; Health Insurance Act, art. 32"})
	}
	add(EmploymentService, deliberation{"", 4, 1, 27, 66, fieldList(identityFields, addressFields),
		[]string{CapacityJobseeker}, "Registration and guidance of jobseekers and control of their availability",
		crossroadsAct + "; Employment Act, art. 14"})
	for i, c := range n.cities {
		add(c, deliberation{"", 3, 6, 10, 80 + i, fieldList([]string{"given_name", "family_name"}, addressFields),
			[]string{CapacityMember}, "Correspondence with residents about municipal services",
			crossroadsAct + "; Municipalities Act, art. 135"})
	}
	tax := deliberation{"", 9, 2, 1, 7, fieldList(identityFields, addressFields, []string{"household"}),
		[]string{CapacityMember}, "Checking household composition for tax reductions (pilot project)",
		crossroadsAct + "; Income Tax Code, art. 140"}
	// The registries derived from the civil register.
	household := []string{"household.id", "household.size", "household.members", "household.region", "household.municipality"}
	for i, c := range n.cities {
		add(c, deliberation{SocialMember, 2, 4, 3, 90 + i, fieldList([]string{"person", "uin", "given_name", "family_name"}, household,
			[]string{"poverty_score", "vulnerable"}), []string{CapacityMember}, "Targeting of municipal social assistance",
			crossroadsAct + "; Social Assistance Act, art. 9"})
	}
	for i, f := range uniq(n.funds) {
		add(f, deliberation{SocialMember, 2, 4, 17, 100 + i, fieldList([]string{"person", "uin", "given_name", "family_name"}, household,
			[]string{"household.monthly_income", "poverty_score"}), []string{CapacityChild, CapacityParent},
			"Means-tested supplements to child benefit", crossroadsAct + "; Child Benefit Decree, art. 12"})
		add(f, deliberation{BeneficiaryEnrolment, 2, 4, 17, 110 + i, []string{"person", "given_name", "family_name", "programmes"},
			[]string{CapacityChild, CapacityParent}, "Preventing double payment of family benefits", crossroadsAct + "; Child Benefit Decree, art. 13"})
	}
	add(PensionFund, deliberation{DisabilityStatus, 2, 9, 1, 120, derived.Fields[derived.Disability], []string{CapacityPensioner},
		"Disability supplements to pensions", crossroadsAct + "; Pensions Act, art. 40"})
	add(PensionFund, deliberation{BeneficiaryEnrolment, 2, 9, 1, 121, []string{"person", "given_name", "family_name", "programmes"},
		[]string{CapacityPensioner}, "Preventing double payment of pensions", crossroadsAct + "; Pensions Act, art. 41"})
	for i, h := range []string{HealthInsurer1, HealthInsurer2, HealthInsurer3} {
		add(h, deliberation{DisabilityStatus, 1, 11, 20, 130 + i, derived.Fields[derived.Disability], []string{CapacityMember},
			"Incapacity and disability benefits of insured members", crossroadsAct + "; Health Insurance Act, art. 90"})
		add(h, deliberation{FarmerRecord, 1, 11, 20, 140 + i, []string{"person", "farmer_id", "given_name", "family_name", "region", "municipality", "land_area_ha"},
			[]string{CapacityMember}, "Contributions of self-employed farmers", crossroadsAct + "; Health Insurance Act, art. 12"})
	}
	add(EmploymentService, deliberation{SocialMember, 1, 3, 12, 150, []string{"person", "given_name", "family_name",
		"employment_status", "employment_status_date", "employment"}, []string{CapacityJobseeker},
		"Ending unemployment benefit when a jobseeker takes up work", crossroadsAct + "; Employment Act, art. 27"})
	// The employment source (#18): careers and wages for pensions; periods alone, not
	// wages, for the employment service.
	add(PensionFund, deliberation{WorkerEmployment, 1, 6, 5, 160, []string{"person", "employment_periods", "wages"}, []string{CapacityPensioner},
		"Calculation of pension rights from careers and wages", crossroadsAct + "; Pensions Act, art. 12"})
	add(EmploymentService, deliberation{WorkerEmployment, 1, 6, 5, 161, []string{"person", "employment_periods"}, []string{CapacityJobseeker},
		"Checking the work history of jobseekers", crossroadsAct + "; Employment Act, art. 30"})
	a := tax.authorization(TaxOffice, today)
	a.ValidTo = date.Of(today.Year()-2, 12, 31) // the pilot ended: a refusal for demos
	n.authorizations = append(n.authorizations, a)
	// Reviews look back: a pension fund checks the past two years of a survivor's
	// pension, benefit funds and insurers the past year. The others ask about today.
	for i := range n.authorizations {
		a := &n.authorizations[i]
		switch {
		case a.Service != CivilPerson:
		case a.Institution == PensionFund:
			a.LookbackDays = 730
		case strings.HasPrefix(a.Institution, ChildBenefitPrefix), strings.HasPrefix(a.Institution, "HEALTH-INSURER-"):
			a.LookbackDays = 365
		}
	}
}

// authorization dates d back from today and names it like the committee does.
func (d deliberation) authorization(inst string, today date.Date) directory.Authorization {
	y := today.Year() - d.yearsBack
	return directory.Authorization{
		ID: fmt.Sprintf("AUTH-%04d-%03d", y, d.number), Institution: inst, Service: cmp.Or(d.service, CivilPerson),
		Fields: d.fields, Purpose: d.purpose, LegalBasis: d.legalBasis, Capacities: d.capacities,
		ValidFrom: date.Of(y, d.month, d.day),
		Decision:  fmt.Sprintf("Deliberation %02d/%03d of the Social Security Committee", y%100, d.number),
	}
}

// NowhereEndpoint is the base of the push subscriptions' endpoints: the discard port of
// the loopback interface, where deliveries fail and are retried. The demo points them at
// its own receiver when it starts (hub.Demo).
const NowhereEndpoint = "http://127.0.0.1:9/notify/"

// subscribe adds the event subscriptions, pushing to NowhereEndpoint + institution.
func (n *network) subscribe() {
	add := func(inst string, events, caps []string, push bool) {
		s := directory.Subscription{
			ID: "sub-" + strings.ToLower(inst), Institution: inst, EventTypes: events, Capacities: caps, Mode: directory.ModePull,
		}
		if push {
			s.Mode, s.Endpoint = directory.ModePush, NowhereEndpoint+inst
		}
		n.subscriptions = append(n.subscriptions, s)
	}
	add(PensionFund, []string{"death", "marriage", "address", "disability", "enrolment", "right"}, []string{CapacityPensioner}, true)
	for _, f := range uniq(n.funds) {
		add(f, []string{"birth", "death", "address", "household", "income", "enrolment"}, []string{CapacityChild, CapacityParent}, true)
	}
	add(HealthInsurer1, []string{"death", "birth", "address", "disability"}, []string{CapacityMember}, true)
	add(HealthInsurer2, []string{"death", "birth", "address", "disability"}, []string{CapacityMember}, true)
	add(HealthInsurer3, []string{"death", "birth", "address", "disability"}, []string{CapacityMember}, false)
	add(EmploymentService, []string{"employment_start", "employment_end", "death"}, []string{CapacityJobseeker}, true)
	// The fixture subscriptions of the DCI conformance suites, PENSION-FUND's, as if its
	// application had subscribed through DCI.
	for _, f := range []struct{ id, registry, event, record string }{
		{FixtureSubscription, "crvs", "death", "Person"},
		{FixtureSubscriptionCRVS, "crvs", "birth", "Person"},
		{FixtureSubscriptionFR, "fr", "registration", "Farmer"},
	} {
		n.subscriptions = append(n.subscriptions, directory.Subscription{
			ID: f.id, Institution: PensionFund, EventTypes: []string{f.event}, Capacities: []string{CapacityPensioner},
			Mode: directory.ModePush, Endpoint: NowhereEndpoint + PensionFund, Registry: f.registry,
			Application: AppID(PensionFund), Filter: []byte(`{}`), RecordType: f.record, Status: directory.SubscriptionActive,
		})
	}
}

// The fixture subscription codes every nation holds.
const (
	FixtureSubscription     = "sub-test-001"
	FixtureSubscriptionCRVS = "sub-crvs-test-001"
	FixtureSubscriptionFR   = "sub-fr-test-001"
)

// uniq returns list without repeats, in order of first appearance.
func uniq(list []string) []string { return fieldList(list) }
