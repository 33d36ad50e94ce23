package directory

import (
	"encoding/json"

	"github.com/crossroads-hub/crossroads/internal/date"
)

// Kind names a kind of directory record.
type Kind string

// The kinds of record the admin API manages. Secrets are records of their own kind so
// that listing applications can never leak them.
const (
	KindInstitution   Kind = "institution"
	KindApplication   Kind = "application"
	KindService       Kind = "service"
	KindAuthorization Kind = "authorization"
	KindSubscription  Kind = "subscription"
	KindSecret        Kind = "secret" // hashed credentials, keyed by application id or "admin:<name>"
)

// Contact is how to reach an institution's responsible person.
type Contact struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// Institution is a member of the network.
type Institution struct {
	Code       string `json:"code"`       // stable short code, e.g. "PENSION-FUND"
	Name       string `json:"name"`       // display name
	Sector     string `json:"sector"`     // e.g. civil, social, pensions, family, health, employment, tax, local
	Kind       string `json:"kind"`       // e.g. authentic_source, fund, insurer, municipality, service
	Enterprise string `json:"enterprise"` // enterprise number, 10 digits
	// Establishments are the establishment-unit numbers of an employer's sites.
	Establishments []string `json:"establishments,omitempty"`
	// Mandates are the enterprise numbers of the employers that mandated this
	// institution (a payroll office) to declare for them (employment declarations, #18).
	Mandates []string `json:"mandates,omitempty"`
	Contact  Contact  `json:"contact"`
}

// Application statuses.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusRevoked   = "revoked"
)

// Authentication methods an application may be allowed.
const (
	AuthClientSecret  = "client_secret"
	AuthPrivateKeyJWT = "private_key_jwt"
)

// Application is a client of the hub, owned by an institution.
type Application struct {
	ID          string            `json:"id"`
	Institution string            `json:"institution"`
	Name        string            `json:"name"`
	Status      string            `json:"status"`
	Keys        []json.RawMessage `json:"keys"`         // public keys as JWK (Ed25519 "OKP" or "RSA")
	AuthMethods []string          `json:"auth_methods"` // client_secret, private_key_jwt
	// Signatures says whether the application's DCI messages may come unsigned: none
	// (the default) and optional accept them, required refuses them. A message that
	// carries a signature is checked whatever the policy: one that does not verify
	// (or that no registered key verifies) is refused.
	Signatures string `json:"signatures,omitempty"`
	// Callbacks are the URL prefixes the hub may deliver this application's asynchronous
	// answers to: a request's header.sender_uri must be under one of them, compared as
	// URLs (UnderPrefix). None: the application may not make asynchronous calls.
	Callbacks []string `json:"callbacks,omitempty"`
}

// CallbackAllowed returns the normal form of uri, the URL to post to, when it is under
// one of a's callback prefixes.
func (a Application) CallbackAllowed(uri string) (string, bool) {
	u, err := CallbackUnder("callback", a.Callbacks, uri)
	return u, err == nil
}

// Message signature policies of an application.
const (
	SignaturesNone     = "none"
	SignaturesOptional = "optional"
	SignaturesRequired = "required"
)

// Registry types of the services authentic sources offer.
var RegistryTypes = []string{"civil", "social", "beneficiary", "disability", "farmer", "employment", "income", "pension", "health", "tax", "other"}

// Service is something an authentic source offers to the network.
type Service struct {
	ID          string   `json:"id"`
	Institution string   `json:"institution"` // the authentic source
	Registry    string   `json:"registry"`    // one of RegistryTypes
	Name        string   `json:"name"`
	DataSets    []string `json:"data_sets"`
	Fields      []string `json:"fields"`   // every field the service can return
	Endpoint    string   `json:"endpoint"` // base URL; "builtin:civil" for a source inside the hub
	// Mode is how the hub asks the source: "sync" (the default: registry/sync/search) or
	// "async" (registry/search; the source calls the hub back at
	// {prefix}/{registry}/registry/on-search, signed).
	Mode string `json:"mode,omitempty"`
	// AsOf says the source answers a question about a past day (header.meta.on_date)
	// with the record as it stood that day. Without it the hub refuses such questions
	// rather than pass them to a source that would answer with today's data.
	AsOf bool `json:"as_of,omitempty"`
}

// Service modes.
const (
	ModeSync  = "sync"
	ModeAsync = "async"
)

// Authorization is a public access authorization ("deliberation"): the requesting
// institution may use the service for the purpose, see only the fields, about persons it
// has in its person directory in one of the capacities, from ValidFrom to ValidTo.
type Authorization struct {
	ID          string    `json:"id"`
	Institution string    `json:"institution"` // the requester
	Service     string    `json:"service"`
	Fields      []string  `json:"fields"`
	Purpose     string    `json:"purpose"`
	LegalBasis  string    `json:"legal_basis"`
	Capacities  []string  `json:"capacities"` // capacity codes accepted; empty: no person check (non-personal data)
	ValidFrom   date.Date `json:"valid_from"`
	ValidTo     date.Date `json:"valid_to"` // zero: no end
	Decision    string    `json:"decision"` // reference of the decision, e.g. "Deliberation 24/112"
	// LookbackDays is how far back a question may be about (header.meta.on_date): a
	// question asked today may concern a day at most this many days ago, answered with
	// the record as it stood then. 0: today only. The authorization itself must be in
	// force on the day the question is asked, whatever day it is about.
	LookbackDays int `json:"lookback_days,omitempty"`
	// Identify makes the authorization one of identification: it answers only questions
	// that name its purpose, only filters that fix each of these fields by equality (a
	// full name and a birth date: one person, found without a file on them), and at
	// most MaxIdentifyRecords records; never a look-up or a broader filter.
	Identify []string `json:"identify,omitempty"`
}

// MaxIdentifyRecords bounds the answer of an identification (Authorization.Identify):
// enough to tell one person from several, never a list.
const MaxIdentifyRecords = 3

// MaxLookbackDays bounds LookbackDays: ten years.
const MaxLookbackDays = 3660

// ValidOn reports whether a is in force on day.
func (a Authorization) ValidOn(day date.Date) bool {
	return a.ValidFrom <= day && (a.ValidTo.IsZero() || day <= a.ValidTo)
}

// Delivery modes of a subscription.
const (
	ModePush = "push"
	ModePull = "pull"
)

// Subscription says which events an institution wants, about whom, and where.
type Subscription struct {
	ID          string   `json:"id"`
	Institution string   `json:"institution"`
	EventTypes  []string `json:"event_types"` // birth, death, marriage, divorce, address, …
	Capacities  []string `json:"capacities"`  // only persons integrated in these capacities; empty: any
	Endpoint    string   `json:"endpoint"`    // push target; empty for pull
	Mode        string   `json:"mode"`        // push or pull

	// Set when a partner subscribed through DCI (/registry/subscribe); the id is then the
	// subscription code the hub issued.
	Registry    string          `json:"registry,omitempty"`    // crvs, sr, ibr, dr, fr
	Application string          `json:"application,omitempty"` // the application that subscribed
	Filter      json.RawMessage `json:"filter,omitempty"`      // as sent: which events
	FilterType  string          `json:"filter_type,omitempty"`
	RecordType  string          `json:"notify_record_type,omitempty"`
	Frequency   json.RawMessage `json:"frequency,omitempty"`
	// Status is "subscribe" (or empty): in force; "unsubscribe": cancelled, kept for the record.
	Status string `json:"status,omitempty"`
}

// Active reports whether the subscription is in force.
func (s Subscription) Active() bool { return s.Status == "" || s.Status == SubscriptionActive }

// Subscription statuses.
const (
	SubscriptionActive    = "subscribe"
	SubscriptionCancelled = "unsubscribe"
)

// Secret is a hashed credential. Hash is "sha256:<hex>" of a high-entropy random token,
// so a plain hash is enough and comparison is constant-time on the hash.
type Secret struct {
	ID   string `json:"id"`
	Hash string `json:"hash"`
}

// EventTypes are the mutations a subscription may name.
var EventTypes = []string{"birth", "death", "marriage", "divorce", "address", "household", "employment_start", "employment_end", "income", "disability", "enrolment", "registration", "social_risk", "right"}
