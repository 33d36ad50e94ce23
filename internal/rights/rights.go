// Package rights grants derived rights automatically (capability 8 of the mission): social
// statutes ("increased reimbursement", "person with a disability") and the additional
// rights they open ("social energy tariff", "transport reduction") are versioned rules
// written in expr (github.com/expr-lang/expr) over facts from the authentic sources.
// A rule is validated when it is saved: it compiles against the facts (Facts), reads no
// fact it does not declare, and every example stored next to it gives its expected
// result; an error names the position and the reason.
//
// The Engine evaluates the rules for persons in bulk, in parallel, each program compiled
// once and run on a struct environment (no map per person). Its outputs are decisions
// (Decision): the rule and its version, the facts used with their source and date, the
// result and the date it takes effect. Only changes are stored (Store): a person who
// never held a right has no decision about it, and a new decision is written when the
// result changes. The facts come from their sources through a FactSource the caller
// builds behind the exchange's authorization and audit log (the engine has no back door
// into the registers): see internal/rightsfacts.
package rights

import (
	"github.com/crossroads-hub/crossroads/internal/date"
)

// Kinds of rules.
const (
	KindStatute = "statute" // a status over facts, that opens rights
	KindRight   = "right"   // an additional right, over statutes and facts
)

// Results of a decision.
const (
	Granted = "granted"
	Refused = "refused" // the conditions are not met (a refusal is stored only when it ends a grant: Ended)
	Ended   = "ended"   // a right held before is no longer met
)

// Decision is one grant, refusal or end of a right for a person, with its evidence.
type Decision struct {
	ID          int64     `json:"id,omitempty"` // set by the store
	Person      string    `json:"person"`
	Right       string    `json:"right"`
	Version     int       `json:"version"`     // of the rule that decided
	Result      string    `json:"result"`      // granted, refused, ended
	Effective   date.Date `json:"effective"`   // the day it takes effect
	Facts       []Fact    `json:"facts"`       // the facts the rule read
	Decided     int64     `json:"decided_at"`  // unix seconds when the engine decided
	Institution string    `json:"institution"` // the institution that grants the right
	// Group is where the decision is counted in statistics (not shown with it).
	Group Group `json:"-"`
}

// Fact is one fact a decision used: its value, where it comes from and its date.
type Fact struct {
	Name   string    `json:"name"`
	Value  string    `json:"value"`
	Source string    `json:"source"` // the authentic source's service
	Date   date.Date `json:"date"`   // the day the fact took effect (or was derived on)
}

// EventType is the type of the event each stored decision is, in the built-in sources'
// log: routed to the granting institution through the mutations machinery.
const EventType = "right"

// Purpose is the purpose an authorization names for a right: its granting
// institution's reads of facts, its decisions and their explanations.
func Purpose(right string) string { return "right:" + right }

// Holds reports whether the decision leaves the right held.
func (d Decision) Holds() bool { return d.Result == Granted }
