package g2p

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/iban"
)

// Step is one step of a registration or a cycle: its outcome, when, how long, and the
// audit records that prove it.
type Step struct {
	Name     string        `json:"name"`
	Outcome  string        `json:"outcome"` // ok, refused, failed
	Why      string        `json:"why,omitempty"`
	What     string        `json:"what,omitempty"` // what the applicant can do
	At       time.Time     `json:"at"`
	Duration time.Duration `json:"duration_ns"`
	Seqs     []int64       `json:"audit_records,omitempty"`
}

// Step outcomes.
const (
	OK      = "ok"
	Refused = "refused"
	Failed  = "failed"
)

// Registration statuses.
const (
	CodeSent   = "code_sent"
	Locked     = "locked" // too many wrong codes: wait
	Registered = "registered"
	// AlreadyRegistered: the person is on the list already; nothing was done again (no
	// code, no file, no message).
	AlreadyRegistered = "already_registered"
	Ineligible        = "ineligible"
	Stopped           = "stopped" // a check refused: Steps say why and what to do
)

// Registration is one application and its steps.
type Registration struct {
	ID        string    `json:"id"`
	Programme string    `json:"programme"`
	Person    string    `json:"person"`
	Mobile    string    `json:"-"`
	Account   iban.IBAN `json:"-"`
	Actor     string    `json:"actor"` // "applicant" or the social worker's id
	Name      string    `json:"-"`     // as the applicant gave it (checked against the register)
	BirthDate date.Date `json:"-"`
	Status    string    `json:"status"`
	Steps     []Step    `json:"steps"`
	Decision  *Decision `json:"decision,omitempty"`
	Code      Code      `json:"-"`
	Created   time.Time `json:"created"`
}

// Beneficiary statuses.
const (
	Active = "active"
	Ended  = "ended"
)

// Beneficiary is a person on the programme's list.
type Beneficiary struct {
	Person    string    `json:"person"`
	Name      string    `json:"-"` // the register's, for the bank's name match
	BirthDate date.Date `json:"-"`
	From      date.Date `json:"from"` // first day of the right
	Status    string    `json:"status"`
	EndReason string    `json:"end_reason,omitempty"`
	Ended     date.Date `json:"ended,omitempty"`
}

// Instruction statuses, as reconciliation sets them.
const (
	Sent     = "sent"
	Paid     = "paid"
	Returned = "returned"
	Missing  = "missing"
	Held     = "held" // not sent: the person died before the payment, or no account
)

// Instr is a payment the programme instructed: the bank's instruction and what the
// programme keeps beside it.
type Instr struct {
	ID       string
	Cycle    string
	Person   string
	Payee    iban.IBAN
	Amount   int64
	Currency string
	Day      date.Date
	Status   string
	Reason   string // a return's reason, a hold's cause
	Arrears  string // the id of the returned instruction this one pays again
	Seq      int64  // the audit record of its sending
}

// Mapping is the mapper's link of a person number to an account.
type Mapping struct {
	Person string
	FA     iban.IBAN
	Bank   string
	Name   string
	Linked time.Time
}

// Store keeps a programme's state. Each method is one transaction.
type Store interface {
	PutRegistration(ctx context.Context, r Registration) error
	Registration(ctx context.Context, id string) (Registration, error)

	PutBeneficiary(ctx context.Context, b Beneficiary) error
	// AddBeneficiary keeps b unless the person has an open right: false, nothing
	// changed. Two registrations of one person at once list them once.
	AddBeneficiary(ctx context.Context, b Beneficiary) (bool, error)
	Beneficiary(ctx context.Context, person string) (Beneficiary, error)
	// Beneficiaries lists the beneficiaries whose right is open on day, by person number.
	Beneficiaries(ctx context.Context, day date.Date) ([]Beneficiary, error)
	// EndRights ends the rights of persons on day for reason.
	EndRights(ctx context.Context, persons []string, day date.Date, reason string) error

	// Import keeps beneficiaries and their mappings in one transaction: a programme's
	// list moved in from another system (and the benchmarks' lists).
	Import(ctx context.Context, bs []Beneficiary, ms []Mapping) error

	Link(ctx context.Context, m Mapping) error
	Resolve(ctx context.Context, persons []string) (map[string]Mapping, error)
	Unlink(ctx context.Context, person string) error

	// AddInstructions keeps the instructions whose ids it does not hold, all or none;
	// it returns how many were new.
	AddInstructions(ctx context.Context, ins []Instr) (int, error)
	Instructions(ctx context.Context, cycle string) ([]Instr, error)
	// SetInstructions updates the status, reason and seq of instructions it holds.
	SetInstructions(ctx context.Context, ins []Instr) error
	// Returned lists the instructions returned and not yet paid again.
	Returned(ctx context.Context) ([]Instr, error)
	// StatementTaken tells whether the bank statement key was taken.
	StatementTaken(ctx context.Context, key string) (bool, error)
	// TakeStatement records the statement key of cycle as taken and updates ins as
	// SetInstructions does, in one transaction; a key taken before changes nothing and
	// answers false.
	TakeStatement(ctx context.Context, key, cycle string, ins []Instr) (bool, error)
}

// MemStore is a Store in memory: tests, benchmarks, and a demo without a database.
type MemStore struct {
	mu      sync.Mutex
	regs    map[string]Registration
	benef   map[string]Beneficiary
	maps    map[string]Mapping
	ins     map[string]*Instr
	byCycle map[string][]string
	repaid  map[string]bool // ids of returned instructions paid again
	stmts   map[string]bool // statements taken
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{regs: map[string]Registration{}, benef: map[string]Beneficiary{}, maps: map[string]Mapping{},
		ins: map[string]*Instr{}, byCycle: map[string][]string{}, repaid: map[string]bool{}, stmts: map[string]bool{}}
}

func (m *MemStore) PutRegistration(_ context.Context, r Registration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r.Steps = slices.Clone(r.Steps)
	m.regs[r.ID] = r
	return nil
}

func (m *MemStore) Registration(_ context.Context, id string) (Registration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.regs[id]
	if !ok {
		return Registration{}, fault.NotFoundf("registration %q does not exist", clip(id))
	}
	r.Steps = slices.Clone(r.Steps)
	return r, nil
}

func (m *MemStore) AddBeneficiary(_ context.Context, b Beneficiary) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.benef[b.Person]; ok && old.Status == Active {
		return false, nil
	}
	m.benef[b.Person] = b
	return true, nil
}

func (m *MemStore) PutBeneficiary(_ context.Context, b Beneficiary) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.benef[b.Person] = b
	return nil
}

func (m *MemStore) Beneficiary(_ context.Context, person string) (Beneficiary, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.benef[person]
	if !ok {
		return Beneficiary{}, fault.NotFoundf("%s is not on the programme's list", clip(person))
	}
	return b, nil
}

func (m *MemStore) Beneficiaries(_ context.Context, day date.Date) ([]Beneficiary, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Beneficiary, 0, len(m.benef))
	for _, b := range m.benef {
		if b.Status == Active && b.From <= day {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b Beneficiary) int { return compare(a.Person, b.Person) })
	return out, nil
}

func (m *MemStore) EndRights(_ context.Context, persons []string, day date.Date, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range persons {
		if b, ok := m.benef[p]; ok && b.Status == Active {
			b.Status, b.Ended, b.EndReason = Ended, day, reason
			m.benef[p] = b
		}
	}
	return nil
}

func (m *MemStore) Import(_ context.Context, bs []Beneficiary, ms []Mapping) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range bs {
		m.benef[b.Person] = b
	}
	for _, mp := range ms {
		m.maps[mp.Person] = mp
	}
	return nil
}

func (m *MemStore) Link(_ context.Context, mp Mapping) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maps[mp.Person] = mp
	return nil
}

func (m *MemStore) Resolve(_ context.Context, persons []string) (map[string]Mapping, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]Mapping, len(persons))
	for _, p := range persons {
		if mp, ok := m.maps[p]; ok {
			out[p] = mp
		}
	}
	return out, nil
}

func (m *MemStore) Unlink(_ context.Context, person string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.maps[person]; !ok {
		return fault.NotFoundf("%s has no account linked", clip(person))
	}
	delete(m.maps, person)
	return nil
}

func (m *MemStore) AddInstructions(_ context.Context, ins []Instr) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for i := range ins {
		if _, ok := m.ins[ins[i].ID]; ok {
			continue
		}
		in := ins[i]
		m.ins[in.ID] = &in
		m.byCycle[in.Cycle] = append(m.byCycle[in.Cycle], in.ID)
		if in.Arrears != "" {
			m.repaid[in.Arrears] = true
		}
		n++
	}
	return n, nil
}

func (m *MemStore) Instructions(_ context.Context, cycle string) ([]Instr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := m.byCycle[cycle]
	out := make([]Instr, len(ids))
	for i, id := range ids {
		out[i] = *m.ins[id]
	}
	return out, nil
}

func (m *MemStore) StatementTaken(_ context.Context, key string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stmts[key], nil
}

func (m *MemStore) TakeStatement(_ context.Context, key, _ string, ins []Instr) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stmts[key] {
		return false, nil
	}
	if err := m.setInstructions(ins); err != nil {
		return false, err
	}
	m.stmts[key] = true
	return true, nil
}

func (m *MemStore) SetInstructions(_ context.Context, ins []Instr) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.setInstructions(ins)
}

func (m *MemStore) setInstructions(ins []Instr) error {
	for _, in := range ins {
		if _, ok := m.ins[in.ID]; !ok {
			return fault.NotFoundf("instruction %q does not exist", clip(in.ID))
		}
	}
	for _, in := range ins {
		p := m.ins[in.ID]
		p.Status, p.Reason, p.Seq = in.Status, in.Reason, in.Seq
	}
	return nil
}

func (m *MemStore) Returned(_ context.Context) ([]Instr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Instr
	for id, in := range m.ins {
		if in.Status == Returned && !m.repaid[id] {
			out = append(out, *in)
		}
	}
	slices.SortFunc(out, func(a, b Instr) int { return compare(a.ID, b.ID) })
	return out, nil
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// stored is a Registration as a Store keeps it: with what the API does not show (the
// mobile number, the account, the code's hash, the name and birth date given).
type stored struct {
	Registration
	Mobile    string    `json:"mobile"`
	Account   iban.IBAN `json:"account"`
	Name      string    `json:"name,omitempty"`
	BirthDate date.Date `json:"birth_date,omitempty"`
	CodeHash  []byte    `json:"code_hash,omitempty"`
	Expires   time.Time `json:"code_expires"`
	Tries     int       `json:"code_tries"`
	Until     time.Time `json:"locked_until"`
}

// EncodeRegistration is r as a Store keeps it.
func EncodeRegistration(r Registration) ([]byte, error) {
	return json.Marshal(stored{Registration: r, Mobile: r.Mobile, Account: r.Account, Name: r.Name, BirthDate: r.BirthDate,
		CodeHash: r.Code.Hash[:], Expires: r.Code.Expires, Tries: r.Code.Tries, Until: r.Code.Until})
}

// DecodeRegistration reads what EncodeRegistration wrote.
func DecodeRegistration(b []byte) (Registration, error) {
	var s stored
	if err := json.Unmarshal(b, &s); err != nil {
		return Registration{}, fault.Wrap(err, "read a registration")
	}
	r := s.Registration
	r.Mobile, r.Account, r.Name, r.BirthDate = s.Mobile, s.Account, s.Name, s.BirthDate
	copy(r.Code.Hash[:], s.CodeHash)
	r.Code.Expires, r.Code.Tries, r.Code.Until = s.Expires, s.Tries, s.Until
	return r, nil
}
