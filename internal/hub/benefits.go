package hub

import (
	"context"
	"time"

	"github.com/crossroads-hub/crossroads/internal/benefits"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/portal"
	"github.com/crossroads-hub/crossroads/internal/rights"
)

// benefitsService takes the granting bodies' reports (#20) for the API and the
// professional pages: the catalogue names who grants each right, the decisions say who
// holds it, the exchange seals every attempt.
func benefitsService(x *stack, st *Stores) *benefits.Service {
	cat := rights.DemoCatalogue()
	return &benefits.Service{Store: st.Civil.Benefits(), Seal: x.exchange.Seal, Now: time.Now, Decision: decisionOn(st),
		Grantor: func(right string) (string, bool) {
			if r := cat.Rule(right); r != nil {
				return r.Institution, true
			}
			return "", false
		}}
}

// decisionOn reads a person's decision on a right in force on a day from the rights
// engine's store.
func decisionOn(st *Stores) func(ctx context.Context, person, right string, day date.Date) (*rights.Decision, error) {
	return func(ctx context.Context, person, right string, day date.Date) (*rights.Decision, error) {
		hist, err := st.Civil.Rights().History(ctx, person)
		if err != nil {
			return nil, err
		}
		var mine []rights.Decision
		for _, d := range hist {
			if d.Right == right {
				mine = append(mine, d)
			}
		}
		return portal.InForce(mine, day), nil
	}
}
