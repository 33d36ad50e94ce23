package g2p

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bank"
	"github.com/crossroads-hub/crossroads/internal/date"
)

// The services of the hub the programme asks, and the fields it is authorized for:
// from the civil register name, birth date and death only.
// The purposes are those of the programme's authorizations in the directory.
const (
	PurposeIdentity = "Old-age allowance: identity and life of applicants and beneficiaries"
	PurposeIncome   = "Old-age allowance: residence and household income of applicants"
	PurposePension  = "Old-age allowance: no contributory pension"
)

var (
	CivilQuestion = Question{Service: "civil-person", Purpose: PurposeIdentity,
		Fields: []string{"person", "given_name", "family_name", "birth_date", "death_date"}}
	DeathQuestion   = Question{Service: "civil-person", Purpose: PurposeIdentity, Fields: []string{"person", "death_date"}}
	SocialQuestion  = Question{Service: "social-member", Purpose: PurposeIncome, Fields: []string{"person", "household.region", "household.monthly_income"}}
	PensionQuestion = Question{Service: "beneficiary-enrolment", Purpose: PurposePension, Fields: []string{"person", "programmes"}}
)

// Fields returns the fields of each service the programme asks for: what its
// authorizations must grant, and no more.
func Fields() map[string][]string {
	return map[string][]string{CivilQuestion.Service: CivilQuestion.Fields, SocialQuestion.Service: SocialQuestion.Fields,
		PensionQuestion.Service: PensionQuestion.Fields}
}

// Service is a programme at work: its rule, its store, the hub, the bank and the SMS
// sender.
type Service struct {
	Programme *Programme
	Store     Store
	Hub       Hub
	Bank      bank.Institution
	BankCode  string // the bank's code in financial addresses
	Sender    Sender
	Now       func() time.Time
	Rand      io.Reader // one-time codes and ids; crypto/rand when nil

	codes    codeLimit
	searches codeLimit // searches of the register by name, per social worker

	closeMu sync.Mutex
	toClose []string       // refused applicants whose files CloseRefused ends
	busy    map[string]int // persons with a registration's checks running: their files stay open
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Service) today() date.Date { return date.FromTime(s.now()) }

func (s *Service) newID(prefix string) string {
	b := make([]byte, 12)
	r := s.Rand
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, b); err != nil {
		panic(err) // crypto/rand does not fail
	}
	return prefix + hex.EncodeToString(b)
}

// timed runs fn as a step named name and appends it to steps.
func (s *Service) timed(steps *[]Step, name string, fn func(st *Step) error) error {
	st := Step{Name: name, At: s.now().UTC(), Outcome: OK}
	start := time.Now()
	err := fn(&st)
	st.Duration = time.Since(start)
	if err != nil && st.Outcome == OK {
		st.Outcome, st.Why = Failed, err.Error()
		st.What = "try again later; if it persists, contact the programme"
	}
	*steps = append(*steps, st)
	return err
}
