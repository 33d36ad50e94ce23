package population

import (
	"context"

	"github.com/crossroads-hub/crossroads/internal/date"
)

// Brief is what a pass over the whole register reads of a person: a few columns,
// without decoding the record.
type Brief struct {
	Number          string
	Municipality    string
	BirthDate       date.Date
	DeathDate       date.Date
	Household       string
	Sex             string
	RegistryChanges int
}

// Roster reads briefs in bulk (a Store that can).
type Roster interface {
	// Briefs lists up to limit persons after the number after ("" from the first; any
	// 11 digits, a person's number or not), in number order.
	Briefs(ctx context.Context, after string, limit int) ([]Brief, error)
	// BriefsOf returns the persons given (unknown ones left out), in number order.
	BriefsOf(ctx context.Context, persons []string) ([]Brief, error)
	// HouseholdBriefs returns the members of the households, in number order.
	HouseholdBriefs(ctx context.Context, households []string) ([]Brief, error)
}
