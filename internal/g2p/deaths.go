package g2p

import (
	"context"
	"slices"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Death is a death the hub delivered to the programme: a change of the civil register
// routed to it by the mutations machinery because it holds a file on the person.
type Death struct {
	Person string
	Date   date.Date
}

// DeathReason is the end reason of a right ended by a death the hub delivered.
const DeathReason = "deceased (delivered by the hub)"

// Deaths ends, from the day of death, the rights of the beneficiaries among ds whose
// right is open, and records it in the audit log naming them; deaths of persons not
// on the list (an applicant still being checked, a right already ended) change
// nothing. Delivered between cycles, a death takes the person off the next list before
// the cycle; the re-check the day before payment stays as the second net. It returns
// how many rights it ended. Delivering the same death again ends nothing more.
func (s *Service) Deaths(ctx context.Context, ds []Death) (int, error) {
	byDay := map[date.Date][]string{}
	var ended []string
	for _, d := range ds {
		if d.Date.IsZero() {
			return 0, fault.Invalidf("date", "the death of %s has no date", d.Person)
		}
		b, err := s.Store.Beneficiary(ctx, d.Person)
		if fault.KindOf(err) == fault.NotFound {
			continue
		}
		if err != nil {
			return 0, err
		}
		if b.Status != Active || slices.Contains(byDay[d.Date], d.Person) {
			continue
		}
		byDay[d.Date] = append(byDay[d.Date], d.Person)
		ended = append(ended, d.Person)
	}
	if len(ended) == 0 {
		return 0, nil
	}
	// Recorded first: a right the audit log does not show ended is not ended.
	if _, err := s.recordMany(ctx, Action{Service: "g2p.rights", Purpose: s.Programme.Name + ": rights ended by deaths the hub delivered",
		Outcome: "ended", Reasons: []string{DeathReason}}, ended); err != nil {
		return 0, err
	}
	for day, ps := range byDay {
		if err := s.Store.EndRights(ctx, ps, day, DeathReason); err != nil {
			return 0, err
		}
	}
	return len(ended), nil
}
