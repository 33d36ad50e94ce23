package rights

import (
	"context"
)

// Store keeps decisions: only changes, with their history.
type Store interface {
	// Current returns, for the persons (at most MaxPersons), the latest decision of each
	// right that has one, without its facts, in person then right order.
	Current(ctx context.Context, persons []string) ([]Decision, error)
	// HeldBetween returns the rights held (the latest decision a grant) by every person
	// from first to last (person numbers, inclusive), in person then right order: one
	// ordered range read of what a nation's run compares its results with (its batches
	// are ranges).
	HeldBetween(ctx context.Context, first, last string) ([]Held, error)
	// Save appends decisions in one transaction (all or none) and sets their ids; with
	// mark.Job set, the same transaction remembers mark.Last as the job's progress.
	Save(ctx context.Context, ds []Decision, mark Mark) error
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

// Held is a right a person holds: their latest decision on it is a grant.
type Held struct {
	Person, Right string
}

// MaxPersons bounds the persons of one Current call.
const MaxPersons = 1000

// NationBatch is how many persons a nation's run reads and decides at once (its reads
// are recorded a record a thousand persons, its decisions saved in one transaction).
const NationBatch = 10_000

// Mark is a job's progress, saved with the decisions of the batch that made it.
type Mark struct {
	Job, Last string
}

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
