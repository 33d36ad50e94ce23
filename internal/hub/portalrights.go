package hub

import (
	"github.com/crossroads-hub/crossroads/internal/portal"
	"github.com/crossroads-hub/crossroads/internal/rightsfacts"
)

// portalRights plugs the rights engine's decisions into the portal: the person's own
// explanations (read once, sealed under SELF), the decision in force for a verifier's
// check, the titles of the catalogue, and the derived statuses a decision takes the
// place of.
func portalRights(x *stack, st *Stores) *portal.Rights {
	e := x.rightsEngine(st)
	self := &rightsfacts.Self{Engine: e, Registers: rightsRegisters(st), Exchange: x.exchange, Client: portal.Client}
	covers := map[string][]string{
		// The disability registry's "recognised disability" is what this statute decides.
		"person-with-disability": {"disabled"},
	}
	for _, r := range e.Catalogue().Rules() {
		// A programme enrolled from the decisions (not one paid on an application made
		// elsewhere) is the decision itself.
		if r.Programme != "" && !r.Application {
			covers[r.ID] = append(covers[r.ID], "programme:"+r.Programme)
		}
	}
	return &portal.Rights{
		Explain:  self.Explain,
		Decision: decisionOn(st),
		Title: func(right string) string {
			if r := e.Catalogue().Rule(right); r != nil {
				return r.Title
			}
			return ""
		},
		Granting: func(institution string) []string {
			var out []string
			for _, r := range e.Catalogue().Rules() {
				if r.Institution == institution {
					out = append(out, r.ID)
				}
			}
			return out
		},
		Covers: covers,
	}
}
