package synth

import (
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/g2p"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

// The delivery chain of #21: the social-protection programme's information system
// (SP-MIS, paying the old-age allowance) and the demo bank, institutions of the network.
const (
	SPMIS    = "SP-MIS"
	DemoBank = "DEMO-BANK"
	// CapacityApplicant is the capacity of the SP-MIS's files on its applicants and
	// beneficiaries (g2p.Capacity).
	CapacityApplicant = g2p.Capacity
	// SPMISDeaths is the SP-MIS's push subscription to the deaths of the persons it
	// holds a file on: the hub's mutations machinery pushes them (the demo points it at
	// its receiver, which hands them to the programme), the programme ends the rights.
	SPMISDeaths = "sub-sp-mis"
)

// deliveryChain adds the SP-MIS, the demo bank, their applications, the SP-MIS's
// authorizations (the civil register: name, birth date and death only; residence and
// household income from the social registry; pensions from the beneficiary registry)
// and its subscription to deaths. It draws nothing from the nation's random stream, so
// the rest of the nation is the same with or without it.
func (n *network) deliveryChain(today date.Date) {
	for i, in := range []struct{ code, name, sector, kind string }{
		{SPMIS, "Social Protection Management Information System (old-age allowance)", "social", "fund"},
		{DemoBank, "Demo Bank (paying bank of the programmes)", "finance", "bank"},
	} {
		// A block of its own, after any number of municipalities' institutions.
		ent, err := ident.MakeEnterprise(2_000_000 + (900+i)*101)
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
	fields := g2p.Fields()
	add(deliberation{"", 1, 2, 3, 170, fields[CivilPerson], []string{CapacityApplicant}, g2p.PurposeIdentity, act})
	// An applicant without a person number is found by full name and birth date: no
	// file is needed (she has none yet), so the authorization is one of identification:
	// the exchange answers under it only a filter fixing name and birth date by equality,
	// three records at most, each search recorded (g2p.IdentifyQuestion).
	id := deliberation{"", 1, 2, 3, 173, g2p.IdentifyQuestion.Fields, nil, g2p.PurposeIdentify, act}.authorization(SPMIS, today)
	id.Identify = g2p.IdentifyFields
	n.authorizations = append(n.authorizations, id)
	add(deliberation{SocialMember, 1, 2, 3, 171, fields[SocialMember], []string{CapacityApplicant}, g2p.PurposeIncome, act})
	add(deliberation{BeneficiaryEnrolment, 1, 2, 3, 172, fields[BeneficiaryEnrolment], []string{CapacityApplicant}, g2p.PurposePension, act})
	n.subscriptions = append(n.subscriptions, directory.Subscription{ID: SPMISDeaths, Institution: SPMIS,
		EventTypes: []string{"death"}, Capacities: []string{CapacityApplicant}, Mode: directory.ModePush, Endpoint: NowhereEndpoint + SPMIS})
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

// DeliveryChain returns the directory records deliveryChain adds, for a nation made
// before them (the hub puts those missing when it wires the programme).
func DeliveryChain(today date.Date) ([]directory.Institution, []directory.Application, []directory.Authorization, []directory.Subscription) {
	var n network
	n.deliveryChain(today)
	return n.institutions, n.applications, n.authorizations, n.subscriptions
}
