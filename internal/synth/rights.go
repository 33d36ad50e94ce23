package synth

import (
	"fmt"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/rights"
	"github.com/crossroads-hub/crossroads/internal/rightsfacts"
)

// RightsDecisions is the service of the rights engine's decisions (#19): the granting
// institutions read the decisions and their explanations of the rights they grant under
// it, one authorization a right (purpose right:<id>).
const RightsDecisions = "rights-decisions"

// rightsFields are the fields of a person's record in the rights service.
var rightsFields = []string{"person", "rights", "explanation"}

// authorizeRights adds, for each rule of the demo catalogue, the authorizations of its
// granting institution: each source the rule reads, limited to the fields its facts
// stand for, and the decisions of that right, all under the purpose right:<id>. They
// cover every resident (no capacity): the statutes are granted without an application.
func (n *network) authorizeRights(today date.Date) {
	n.services = append(n.services, directory.Service{
		ID: RightsDecisions, Institution: SocialRegistry, Registry: "other", Name: "Decisions of the automatic granting of derived rights, with their evidence",
		DataSets: []string{"rights"}, Fields: rightsFields, Endpoint: "builtin:rights",
	})
	cat := rights.DemoCatalogue()
	y := today.Year() - 1
	num := 200
	for _, r := range cat.Rules() {
		add := func(service string, fields []string) {
			num++
			n.authorizations = append(n.authorizations, directory.Authorization{
				ID: fmt.Sprintf("AUTH-%04d-%03d", y, num), Institution: r.Institution, Service: service, Fields: fields,
				Purpose: rightsfacts.Purpose(r.ID), LegalBasis: crossroadsAct + "; " + r.LegalReference,
				ValidFrom: date.Of(y, 1, 15), Decision: fmt.Sprintf("Deliberation %02d/%03d of the Social Security Committee", y%100, num),
			})
		}
		for _, s := range r.Sources() {
			add(s, rightsfacts.Fields(r, s))
		}
		add(RightsDecisions, rightsFields)
	}
}
