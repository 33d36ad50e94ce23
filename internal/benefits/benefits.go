// Package benefits keeps the additional benefits granting bodies report (#20): "social
// tariff applied to this person from date D, reference R". Only an application of the
// institution that grants the right (its rule's institution in the rights catalogue)
// may report, and only for a person whose decision for that right is granted on the
// day the benefit starts; everything else is refused, naming the field and why. Every
// attempt, accepted or refused, is sealed in the audit log under the person, so it
// shows in their "who consulted my data".
//
// A report is idempotent by the reporter's reference; it can be corrected or ended,
// each change a new version, the earlier ones kept.
package benefits

import (
	"context"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
)

// The actions a reporter takes.
const (
	Reported  = "report"  // a new benefit, under a reference of the reporter's
	Corrected = "correct" // another start, end or wording for a reference reported
	Ended     = "end"     // the benefit's last day
)

// AuditService is the service the reports and their readings are recorded under in
// the audit log.
const AuditService = "benefits"

// Report is one version of a reported benefit.
type Report struct {
	ID          int64     `json:"id"`          // set by the store
	Institution string    `json:"institution"` // the reporting institution, which grants the right
	Reference   string    `json:"reference"`   // the reporter's own, unique per institution
	Version     int       `json:"version"`     // 1 for the report, then one more per change
	Action      string    `json:"action"`      // report, correct or end
	Person      string    `json:"person"`
	Right       string    `json:"right"`   // a right of the rights catalogue
	Benefit     string    `json:"benefit"` // what was granted, in the reporter's words
	From        date.Date `json:"from"`
	Until       date.Date `json:"until,omitzero"` // the last day; zero while it lasts
	Client      string    `json:"client"`         // the application that reported it
	Recorded    time.Time `json:"recorded"`       // set by the service
}

// same says whether r and o say the same thing (their ids, versions and times aside).
func (r Report) same(o Report) bool {
	return r.Person == o.Person && r.Right == o.Right && r.Benefit == o.Benefit && r.From == o.From && r.Until == o.Until
}

// Store keeps the reports, every version.
type Store interface {
	// Append stores a version and returns it with its ID. A version of that
	// institution's reference that is already stored is a fault.Conflict: two changes
	// made at once, one of which must be made again.
	Append(ctx context.Context, r Report) (Report, error)
	// Versions lists the versions of an institution's reference, oldest first (none: empty).
	Versions(ctx context.Context, institution, reference string) ([]Report, error)
	// ByPerson lists every version about the person, oldest first.
	ByPerson(ctx context.Context, person string) ([]Report, error)
}

// Current keeps the latest version of each reference of versions (oldest first), in
// the order the references were first reported.
func Current(versions []Report) []Report {
	var out []Report
	at := map[[2]string]int{}
	for _, r := range versions {
		k := [2]string{r.Institution, r.Reference}
		if i, ok := at[k]; ok {
			out[i] = r
			continue
		}
		at[k] = len(out)
		out = append(out, r)
	}
	return out
}

// Holds says whether the benefit of r runs on day.
func (r Report) Holds(day date.Date) bool {
	return r.From <= day && (r.Until.IsZero() || day <= r.Until)
}
