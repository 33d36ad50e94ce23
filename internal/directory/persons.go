package directory

import (
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

// Well-known capacity codes. Others (001–900) are specific to an institution's files.
const (
	CapacityDefinitive  = "000"
	CapacityProvisional = "902"
)

// Integration says that an institution has a file on a person, in a capacity, over a period.
type Integration struct {
	Person      string    `json:"person"`      // person number, 11 digits
	Institution string    `json:"institution"` // institution code
	Capacity    string    `json:"capacity"`    // capacity code, three digits
	Begin       date.Date `json:"begin"`
	End         date.Date `json:"end"` // zero: open
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
}

// OpenOn reports whether the integration covers day.
func (g Integration) OpenOn(day date.Date) bool {
	return g.Begin <= day && (g.End.IsZero() || day <= g.End)
}

// Overlaps reports whether two periods share a day.
func (g Integration) Overlaps(o Integration) bool {
	return g.Begin <= endOr(o.End) && o.Begin <= endOr(g.End)
}

func endOr(d date.Date) date.Date {
	if d.IsZero() {
		return date.Max
	}
	return d
}

// Actions of an integration line.
const (
	ActionAdd = "add" // open a new period (refused if it overlaps one of the same person, institution, capacity)
	ActionEnd = "end" // close the open period that began on Begin at End
)

// Line is one instruction of an integration batch.
type Line struct {
	Action string `json:"action"` // add (default) or end
	Integration
}

// Check validates a line on its own (not against the store) and normalises it.
func (l *Line) Check() error {
	if l.Action == "" {
		l.Action = ActionAdd
	}
	if err := needOneOf("action", l.Action, []string{ActionAdd, ActionEnd}); err != nil {
		return err
	}
	p, err := ident.ParsePerson(l.Person)
	if err != nil {
		return identFault("person", err)
	}
	l.Person = p.String()
	if err := needCode("institution", l.Institution); err != nil {
		return err
	}
	if err := needCapacity("capacity", l.Capacity); err != nil {
		return err
	}
	if l.Begin.IsZero() {
		return fault.Invalidf("begin", "is required")
	}
	if l.Action == ActionEnd && l.End.IsZero() {
		return fault.Invalidf("end", "is required to end a period")
	}
	if !l.End.IsZero() && l.End < l.Begin {
		return fault.Invalidf("end", "%s is before begin %s", l.End, l.Begin)
	}
	return nil
}

// BatchMode says what a batch does with good lines when some are bad.
type BatchMode int

const (
	Atomic  BatchMode = iota // all lines or none
	Partial                  // keep the good lines, report the bad ones
)

// Line results.
const (
	LineApplied  = "applied"
	LineRejected = "rejected"
	LineSkipped  = "skipped" // good, but not applied because the atomic batch had a bad line
)

// LineResult is the outcome of one line of a batch.
type LineResult struct {
	Line   int    `json:"line"` // 1-based position in the batch (or file line number)
	Status string `json:"status"`
	Field  string `json:"field,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Report is the outcome of a batch: totals and a result per line.
type Report struct {
	Mode     string       `json:"mode"` // atomic or partial
	Applied  int          `json:"applied"`
	Rejected int          `json:"rejected"`
	Skipped  int          `json:"skipped"`
	Lines    []LineResult `json:"lines"`
}

// IntegrationQuery selects integrations; empty fields do not filter.
type IntegrationQuery struct {
	Person      string
	Institution string
	Capacity    string
	Day         date.Date // only periods covering this day
	After       string    // cursor: the Cursor() of the last integration of the previous page
	Limit       int
}

// Cursor is the position of g in the listing order, for IntegrationQuery.After.
func (g Integration) Cursor() string {
	return g.Person + "/" + g.Institution + "/" + g.Capacity + "/" + g.Begin.String()
}
