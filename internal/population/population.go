// Package population is the population and civil register, the first authentic source
// built into the hub: persons (identity, birth, death, address, parents, marital status,
// nationality) and the vital events that change them (birth, death, marriage, divorce,
// change of address), plus the places of the nation (regions and municipalities).
//
// It is an authentic source like any remote one: the hub reaches it through a service
// registered in the directory, and its tables live apart from the hub's routing data.
package population

import (
	"context"
	"encoding/json"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
)

// Marital statuses.
const (
	Single   = "single"
	Married  = "married"
	Divorced = "divorced"
	Widowed  = "widowed"
)

// Address is where a person lives.
type Address struct {
	Street       string `json:"street"`
	HouseNumber  string `json:"house_number"`
	PostalCode   string `json:"postal_code"`
	Municipality string `json:"municipality"` // place code of the municipality
	Region       string `json:"region"`       // place code of the region
}

// Person is one entry of the register.
type Person struct {
	Number        string    `json:"person"` // person number, 11 digits
	BRN           string    `json:"brn"`    // birth registration number
	GivenName     string    `json:"given_name"`
	FamilyName    string    `json:"family_name"`
	Sex           string    `json:"sex"` // male, female
	BirthDate     date.Date `json:"birth_date"`
	BirthPlace    string    `json:"birth_place"` // place code of the municipality of birth
	DeathDate     date.Date `json:"death_date"`  // zero while alive
	Address       Address   `json:"address"`
	Mother        string    `json:"mother,omitempty"` // person number
	Father        string    `json:"father,omitempty"`
	MaritalStatus string    `json:"marital_status"`
	Spouse        string    `json:"spouse,omitempty"`
	Nationality   string    `json:"nationality"` // ISO 3166-1 alpha-3
	Household     string    `json:"household"`   // household id, shared by those living together
	// RegistryChanges counts the changes declared about the person to the registries
	// derived from the register (internal/derived), kept with the person in the
	// transaction of each: their look-ups read the log only for persons with some. The
	// income changes of quarterly declarations raise it only from 0 to 1. It is not part
	// of the civil register's record.
	RegistryChanges int `json:"registry_changes,omitempty"`
}

// Vital event types.
const (
	EventBirth     = "birth"
	EventDeath     = "death"
	EventMarriage  = "marriage"
	EventDivorce   = "divorce"
	EventAddress   = "address"
	EventHousehold = "household" // the person joins another household (data: {"household": id})
)

// Event is one vital event recorded for a person.
type Event struct {
	Seq        int64           `json:"seq"` // assigned by the store, increasing
	Type       string          `json:"type"`
	Person     string          `json:"person"`
	Date       date.Date       `json:"date"`
	Data       json.RawMessage `json:"data,omitempty"` // type-specific details (spouse, new address, …)
	RecordedAt time.Time       `json:"recorded_at"`
	// After is the person's record as this change left it, written with the event in
	// the change's transaction (Record, RecordCouple), so that the change is pushed as
	// it was, whatever was recorded after it. Only EventsAfter (the outbox) reads it; nil
	// for events loaded in bulk or recorded before it was kept.
	After *Person `json:"after,omitempty"`
}

// Place is a region or a municipality.
type Place struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Kind   string `json:"kind"`   // region or municipality
	Parent string `json:"parent"` // region code of a municipality; "" for a region
}

// Query selects persons in number order.
type Query struct {
	Municipality string
	After        string // person number cursor
	Limit        int
}

// MaxEventPersons bounds the persons of one Events call.
const MaxEventPersons = 64

// Store keeps the register.
type Store interface {
	// PutPersons inserts or replaces persons in one transaction (bulk loading).
	PutPersons(ctx context.Context, ps []Person) error
	// PutEvents appends events in one transaction, as history (bulk loading); it does
	// not change persons. Seq and RecordedAt are set by the store when zero.
	PutEvents(ctx context.Context, evs []Event) error
	// PutPlaces inserts or replaces places.
	PutPlaces(ctx context.Context, ps []Place) error
	// Record applies an event to its person (fn changes the person) and appends the event
	// with the person as changed (After), in one transaction; it returns the event as
	// stored, without After.
	Record(ctx context.Context, ev Event, apply func(*Person) error) (Event, error)
	// RecordCouple is Record for a change of two persons, a marriage or a divorce: fn
	// changes the event's person and other, and both are written with the event, in one
	// transaction. other must be in the register.
	RecordCouple(ctx context.Context, ev Event, other string, apply func(p, other *Person) error) (Event, error)
	// Person returns one person by number, or a NotFound fault.
	Person(ctx context.Context, number string) (Person, error)
	// PersonByBRN returns one person by birth registration number, or a NotFound fault.
	PersonByBRN(ctx context.Context, brn string) (Person, error)
	// Persons lists persons in number order.
	Persons(ctx context.Context, q Query) ([]Person, error)
	// Events lists the events of the persons (one or more, at most MaxEventPersons), in
	// seq order.
	Events(ctx context.Context, persons ...string) ([]Event, error)
	// EventsAfter lists up to limit events of every person with a seq above after, in seq
	// order: the register's outbox, which its event log is (an event is written in the
	// transaction of the change it records, so it is there exactly when the change is),
	// each with the person as it left it (Event.After) when the store kept it.
	EventsAfter(ctx context.Context, after int64, limit int) ([]Event, error)
	// LastEventSeq returns the seq of the last event, 0 when there is none.
	LastEventSeq(ctx context.Context) (int64, error)
	// SettledEventSeq returns the seq up to which the log is final: no event at or below
	// it can still be committed (transactions may commit out of seq order). The outbox
	// relay publishes no further.
	SettledEventSeq(ctx context.Context) (int64, error)
	// Places lists every place.
	Places(ctx context.Context) ([]Place, error)
	// Count returns the number of persons, and of them the deceased.
	Count(ctx context.Context) (persons, deceased int, err error)
}
