// Package employment is the employment authentic source (issue #18): employment
// relations declared by employers, or the payroll offices they mandated, through
// immediate declarations (a hire, an exit, a cancellation, a correction; history kept),
// and the quarterly declarations of wages and working time, ingested in bulk and
// validated line by line.
//
// An accepted hire or exit is also the social registry's mutation (derived's
// employment_start / employment_end), written by the store in the declaration's own
// transaction into the built-in sources' event log, so the event pipeline pushes it like
// any other change. The package holds the rules and the Store interface; internal/sqlstore
// implements it on SQLite and PostgreSQL.
package employment

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// Contract types of an employment relation.
var Contracts = []string{"permanent", "fixed-term", "temporary", "student", "apprentice"}

// Relation statuses.
const (
	Active    = "active"
	Cancelled = "cancelled" // the hire was withdrawn: it never took place
)

// Relation is an employment relation: a worker employed by an employer from Start to
// End (date.Max while it lasts).
type Relation struct {
	ID            int64     `json:"id"`
	Person        string    `json:"person"`                  // person number, 11 digits
	Employer      string    `json:"employer"`                // enterprise number, 10 digits
	Establishment string    `json:"establishment,omitempty"` // establishment-unit number, 10 digits
	Start         date.Date `json:"start"`
	End           date.Date `json:"end"` // date.Max: not ended
	Contract      string    `json:"contract"`
	Fraction      float64   `json:"fraction"` // working-time fraction, in (0, 1]
	Sector        string    `json:"sector"`   // joint committee or sector code, 3 digits
	Status        string    `json:"status"`
	Version       int       `json:"version"` // 1 at the hire, one more with each change
}

// Kinds of immediate declaration.
const (
	Hire    = "hire"
	Exit    = "exit"
	Cancel  = "cancel"  // withdraws a hire, before or after the start
	Correct = "correct" // changes the establishment, contract, fraction or sector
)

// Declaration is an immediate declaration. A hire names the worker, the employer and the
// relation's facts; an exit, a cancellation and a correction name the relation
// (Relation, given in the hire's answer), and may name its worker (Person): checked
// against the relation, and the worker a refusal is recorded under.
type Declaration struct {
	ID            int64     `json:"id,omitempty"` // assigned by the store
	Kind          string    `json:"kind"`
	Relation      int64     `json:"relation,omitempty"`
	Person        string    `json:"person,omitempty"`
	Employer      string    `json:"employer,omitempty"`
	Establishment string    `json:"establishment,omitempty"`
	Start         date.Date `json:"start,omitempty"`
	End           date.Date `json:"end,omitempty"` // exit: the last day worked
	Contract      string    `json:"contract,omitempty"`
	Fraction      float64   `json:"fraction,omitempty"`
	Sector        string    `json:"sector,omitempty"`
	// Set by the source.
	DeclaredBy string    `json:"declared_by,omitempty"` // the declaring institution
	Received   time.Time `json:"received,omitzero"`
	Late       bool      `json:"late,omitempty"`  // received after the day it declares
	Event      int64     `json:"event,omitempty"` // the social registry's event it became; 0: none
}

// Store keeps the employment source. Every method that writes does so in one
// transaction.
type Store interface {
	RiskStore
	// Apply records an accepted declaration d and the relation as it makes it (rel; its
	// ID zero for a hire, else its Version the one read, a conflict when it moved
	// meanwhile), the relation's previous state kept as history. When ev is not nil, the
	// social registry's event is appended in the same transaction (its person's count of
	// registry changes raised); a person the register does not hold, or who died, is
	// refused. A hire (rel.ID zero) of a worker with a relation with the employer that
	// is active and not ended before rel.Start is refused (fault.Conflict on "person"),
	// checked in the transaction, before the register's verdict: two hires of the same
	// worker sent at once are taken once. It returns d with ID, Relation and Event set.
	Apply(ctx context.Context, d Declaration, rel Relation, ev *Mutation) (Declaration, error)
	// Relation reads one relation (fault.NotFound if none).
	Relation(ctx context.Context, id int64) (Relation, error)
	// Relations lists a worker's relations, by start.
	Relations(ctx context.Context, person string) ([]Relation, error)
	// Declarations lists the declarations about a worker, in the order received.
	Declarations(ctx context.Context, person string) ([]Declaration, error)
	// Open reports the relation of person with employer in force on day, if any.
	Open(ctx context.Context, person, employer string, day date.Date) (Relation, bool, error)

	// PutRelations stores relations in bulk (synthetic nations, benchmarks), without
	// declarations or events.
	PutRelations(ctx context.Context, rels []Relation) error
	// QuarterRelations calls fn with every active relation overlapping q.
	QuarterRelations(ctx context.Context, q Quarter, fn func(person, employer int64, fraction float64)) error
	// QuarterDeclared calls fn with the worker, employer and amount (wages and bonus,
	// cents) of every line in force for q.
	QuarterDeclared(ctx context.Context, q Quarter, fn func(person, employer, amount int64)) error
	// File returns the quarterly file of that hash, if stored.
	File(ctx context.Context, hash string) (File, bool, error)
	// StoreQuarter stores a file's accepted lines, in one transaction: a line for a worker,
	// employer and quarter already declared replaces it, the replaced one kept as history.
	// In the same transaction each income becomes the social registry's income event
	// (dated the quarter's first day) for a worker the register holds, whose count of
	// registry changes it raises from 0 to 1 (a count above 0 is left: what it tells, that
	// the registries must read the person's events, holds); f.Mutations says how many. A file whose hash is stored
	// is refused (fault.Conflict).
	StoreQuarter(ctx context.Context, f File, lines []WageLine, incomes []Income) (File, error)
	// WageLines lists a worker's wage lines, replaced ones too, by quarter and file.
	WageLines(ctx context.Context, person string) ([]WageLine, error)
	// KnownOn returns a worker's relations and wage lines as the source knew them at
	// instant at: each relation as the last declaration received by then left it (one
	// hired later is absent; one stored without a declaration, in bulk, is always
	// known), the lines of the files received by then, a line Replaced when a later of
	// those files replaced it. By start and by quarter, employer and file.
	KnownOn(ctx context.Context, person string, at time.Time) ([]Relation, []WageLine, error)
	// BeginQuarter opens the transaction that stores file f (its Hash and Quarter set)
	// while it is read: its lines are written chunk by chunk as they are validated, so
	// a file of millions of lines is never held whole in memory, and the commit does
	// what StoreQuarter does after the lines. A hash already stored is a fault.Conflict,
	// at the latest on Commit.
	BeginQuarter(ctx context.Context, f File) (QuarterWriter, error)
}

// QuarterWriter stores one quarterly file in one transaction: nothing is visible before
// Commit, and Rollback (always safe to call, after Commit too) leaves nothing.
type QuarterWriter interface {
	// Write stores accepted lines (their keys set); a chunk is written in the order
	// given, lines of a worker and employer at most once per file.
	Write(ctx context.Context, lines []WageLine) error
	// Commit appends the incomes' events, marks the lines replaced, saves the file's
	// summary and report and commits; it returns f with ID and Mutations set.
	Commit(ctx context.Context, f File, incomes []Income) (File, error)
	Rollback()
}

// EventIncome is the social registry's event of a worker's monthly income (derived's).
const EventIncome = "income"

// MaxIncome bounds a monthly income the social registry takes (derived's bound).
const MaxIncome = 1_000_000

// Income is a worker's monthly income in a quarter as the quarter's lines in force make
// it, once a file is stored: all employers' wages and bonuses over three months, in
// whole units of the currency (at most MaxIncome).
type Income struct {
	Person  int64 // person number as an integer
	Monthly int
}

// Data is the income event's facts.
func (in Income) Data() []byte {
	return []byte(`{"monthly_income":` + strconv.Itoa(in.Monthly) + `}`)
}

// Mutation is the social registry's event a declaration becomes.
type Mutation struct {
	Type   string    // derived.EventEmploymentStart or derived.EventEmploymentEnd
	Person string    // person number
	Date   date.Date // the day it takes effect
	Data   []byte    // the event's facts: {"employer": …}
}

// The causes of a hire refused for its worker, which Declare answers alike to a declarer
// with no relation with the person (no oracle of the register): a store reports a person
// number the civil register does not hold with ErrNotInRegister in its chain.
var (
	ErrNotInRegister = errors.New("not in the civil register")
	ErrDeceased      = errors.New("deceased")
)

// NotInRegister is the store's error for a person number the civil register lacks.
func NotInRegister(person string) error {
	return &fault.Error{Kind: fault.Invalid, Field: "person", Msg: person + " is not in the civil register", Err: ErrNotInRegister}
}

// Apply checks the register's person against m and counts the change on the record: a
// deceased person takes no change, nor a day before their birth. The store calls it in
// the transaction that appends the event.
func (m Mutation) Apply(p *population.Person) error {
	switch {
	case !p.DeathDate.IsZero() && m.Type == EventStart:
		return &fault.Error{Kind: fault.Conflict, Field: "person", Msg: fmt.Sprintf("%s died on %s: the record is closed", p.Number, p.DeathDate), Err: ErrDeceased}
	case m.Date < p.BirthDate:
		return fault.Invalidf("start", "%s is before the person's birth (%s)", m.Date, p.BirthDate)
	}
	p.RegistryChanges++
	return nil
}
