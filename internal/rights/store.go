package rights

import (
	"context"
)

// Store keeps decisions: only changes, with their history.
type Store interface {
	// Current returns, for the persons (at most MaxPersons), the latest decision of each
	// right that has one, without its facts, in person then right order.
	Current(ctx context.Context, persons []string) ([]Decision, error)
	// Save appends decisions in one transaction (all or none); it sets their ids.
	Save(ctx context.Context, ds []Decision) error
	// History returns every decision about the person, with facts, oldest first.
	History(ctx context.Context, person string) ([]Decision, error)
	// Progress returns the last person a job finished, "" when none.
	Progress(ctx context.Context, job string) (string, error)
	// SetProgress remembers the last person a job finished ("" forgets it).
	SetProgress(ctx context.Context, job, last string) error
	// Counts counts the persons holding each right today, by the groups of the current
	// grants (Group: region, age band, household type), for statistics.
	Counts(ctx context.Context) ([]Count, error)
}

// MaxPersons bounds the persons of one Current call.
const MaxPersons = 1000

// Group is how a decision is counted in the statistics: pseudonymous bands, no person.
type Group struct {
	Region        string `json:"region"`
	AgeBand       string `json:"age_band"`
	HouseholdType string `json:"household_type"`
}

// Count is the number of persons of a group holding a right.
type Count struct {
	Right string `json:"right"`
	Group
	Persons int `json:"persons"`
}

// groupOf is the statistics group of facts.
func groupOf(f *Facts) Group {
	return Group{Region: f.Region, AgeBand: AgeBand(f.Age), HouseholdType: HouseholdType(f)}
}
