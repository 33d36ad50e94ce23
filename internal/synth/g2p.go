package synth

import (
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

// The delivery chain of #21: the social-protection programme's information system
// (SP-MIS, paying the old-age allowance) and the demo bank, institutions of the network.
const (
	SPMIS    = "SP-MIS"
	DemoBank = "DEMO-BANK"
	// CapacityApplicant is the capacity of the SP-MIS's files on its applicants and
	// beneficiaries (g2p.Capacity).
	CapacityApplicant = "040"
)

// deliveryChain adds the SP-MIS, the demo bank, their applications, the SP-MIS's
// authorizations (the civil register: name, birth date and death only; residence and
// household income from the social registry; pensions from the beneficiary registry)
// and its subscription to deaths. It draws nothing from the nation's random stream, so
// the rest of the nation is the same with or without it.
func (n *network) deliveryChain(today date.Date) {
	for _, in := range []struct{ code, name, sector, kind string }{
		{SPMIS, "Social Protection Management Information System (old-age allowance)", "social", "fund"},
		{DemoBank, "Demo Bank (paying bank of the programmes)", "finance", "bank"},
	} {
		ent, err := ident.MakeEnterprise(2_000_000 + len(n.institutions)*101)
		if err != nil {
			panic(err) // a constant block inside the range
		}
		inst := directory.Institution{Code: in.code, Name: in.name, Sector: in.sector, Kind: in.kind, Enterprise: ent.String(),
			Contact: directory.Contact{Name: "Service desk", Email: "contact@" + lower(in.code) + ".example", Phone: "+999 2 000 00 00"}}
		n.institutions = append(n.institutions, inst)
		n.applications = append(n.applications, application(inst))
	}
	add := func(d deliberation) {
		n.authorizations = append(n.authorizations, d.authorization(SPMIS, today))
	}
	const act = crossroadsAct + "; Old-Age Allowance Act, art. 4"
	add(deliberation{"", 1, 2, 3, 170, []string{"person", "given_name", "family_name", "birth_date", "death_date"},
		[]string{CapacityApplicant}, "Old-age allowance: identity and life of applicants and beneficiaries", act})
	add(deliberation{SocialMember, 1, 2, 3, 171, []string{"person", "household.region", "household.monthly_income"},
		[]string{CapacityApplicant}, "Old-age allowance: residence and household income of applicants", act})
	add(deliberation{BeneficiaryEnrolment, 1, 2, 3, 172, []string{"person", "programmes"},
		[]string{CapacityApplicant}, "Old-age allowance: no contributory pension", act})
	n.subscriptions = append(n.subscriptions, directory.Subscription{ID: "sub-" + lower(SPMIS), Institution: SPMIS,
		EventTypes: []string{"death"}, Capacities: []string{CapacityApplicant}, Mode: directory.ModePull})
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
