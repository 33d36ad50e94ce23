package bank

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync/atomic"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/iban"
)

// Account is an account of the demo bank.
type Account struct {
	IBAN      iban.IBAN
	Holder    string
	Person    string // the holder's person number
	BirthDate date.Date
	Closed    bool
}

// Posting is an instruction as the bank booked it: its outcome and the statement line.
type Posting struct {
	Instruction
	Status  string // Booked or Returned
	Reason  string
	BankRef string
	Booked  date.Date
}

// Store keeps the demo bank's accounts and postings.
type Store interface {
	PutAccounts(ctx context.Context, as []Account) error
	// Accounts returns the accounts among ibans that exist.
	Accounts(ctx context.Context, ibans []iban.IBAN) (map[iban.IBAN]Account, error)
	// Post keeps, in one transaction, the postings whose ids it does not hold; for each
	// it returns the posting it holds under that id after the call (ps[i] itself when
	// new) and whether it was new.
	Post(ctx context.Context, ps []Posting) (held []Posting, fresh []bool, err error)
	// Postings lists the postings of payer booked on day, in the order received.
	Postings(ctx context.Context, payer iban.IBAN, day date.Date) ([]Posting, error)
}

// BankCode is the demo bank's code inside its account numbers.
const BankCode = "0101"

// DemoAccount is the account the demo bank gives person (an 11-digit person number):
// deterministic, so that every run of the demo finds the same.
func DemoAccount(person string) (iban.IBAN, error) {
	if len(person) != 11 {
		return "", fault.Invalidf("person", "%q is not an 11-digit person number", person)
	}
	return iban.Make("XC", BankCode+person+"0")
}

// ProgrammeAccount is the account the demo bank keeps for a paying programme.
func ProgrammeAccount() iban.IBAN {
	a, err := iban.Make("XC", BankCode+"99999999999"+"9")
	if err != nil {
		panic(err) // a constant
	}
	return a
}

// Holds reports, deterministically, whether a person of the synthetic nation holds an
// account at the demo bank (49 in 50 do) and whether it was closed (1 in 100): the
// demo's refused verifications and returned payments.
func Holds(person string) (holds, closed bool) {
	h := fnv.New32a()
	h.Write([]byte("bank:" + person))
	v := h.Sum32() % 5000
	return v >= 100, v >= 100 && v < 150
}

// Demo is the built-in bank.
type Demo struct {
	Store Store
	Now   func() date.Date
	seq   atomic.Int64
}

var _ Institution = (*Demo)(nil)

// Verify answers from the account alone; it never returns the account's data.
func (d *Demo) Verify(ctx context.Context, q VerifyRequest) (Verification, error) {
	if err := iban.Check(string(q.Account)); err != nil {
		return Verification{}, fault.Invalidf("account", "%v", err)
	}
	if q.Name == "" {
		return Verification{}, fault.Invalidf("name", "the holder's name is required")
	}
	as, err := d.Store.Accounts(ctx, []iban.IBAN{q.Account})
	if err != nil {
		return Verification{}, err
	}
	a, ok := as[q.Account]
	if !ok {
		return Verification{}, nil
	}
	v := Verification{Exists: true, Active: !a.Closed, Score: NameScore(a.Holder, q.Name)}
	v.HolderMatches = v.Score >= MatchThreshold && (q.BirthDate.IsZero() || q.BirthDate == a.BirthDate)
	return v, nil
}

// MaxInstructions bounds one Pay call.
const MaxInstructions = 1_000_000

// Pay books the instructions it has not seen: credited to an open account, returned
// otherwise (AC01 no such account, AC04 closed). An id seen before is a duplicate, paid
// once; the same id with other content is rejected (a replay).
func (d *Demo) Pay(ctx context.Context, ins []Instruction) ([]Receipt, error) {
	if len(ins) > MaxInstructions {
		return nil, fault.TooLargef("instructions", "at most %d instructions at once, got %d", MaxInstructions, len(ins))
	}
	rs := make([]Receipt, len(ins))
	payees := make([]iban.IBAN, 0, len(ins))
	for i := range ins {
		rs[i].ID = ins[i].ID
		if err := CheckInstruction(ins[i]); err != nil {
			rs[i].Status, rs[i].Reason = Rejected, err.Error()
			continue
		}
		payees = append(payees, ins[i].Payee)
	}
	accounts, err := d.Store.Accounts(ctx, payees)
	if err != nil {
		return nil, err
	}
	today := d.Now()
	ps := make([]Posting, 0, len(payees))
	at := make([]int, 0, len(payees))
	for i := range ins {
		if rs[i].Status != "" {
			continue
		}
		p := Posting{Instruction: ins[i], Status: Booked, Booked: max(today, ins[i].Day)}
		p.Person = ""
		p.BankRef = fmt.Sprintf("DB%s%09d", today, d.seq.Add(1))
		switch a, ok := accounts[ins[i].Payee]; {
		case !ok:
			p.Status, p.Reason = Returned, ReasonUnknown
		case a.Closed:
			p.Status, p.Reason = Returned, ReasonClosed
		}
		ps = append(ps, p)
		at = append(at, i)
	}
	held, fresh, err := d.Store.Post(ctx, ps)
	if err != nil {
		return nil, err
	}
	for k, i := range at {
		switch {
		case fresh[k]:
			rs[i].Status = Accepted
		case sameOrder(held[k].Instruction, ps[k].Instruction):
			rs[i].Status, rs[i].Reason = Duplicate, "received before: paid once"
		default:
			rs[i].Status, rs[i].Reason = Rejected, "instruction id used before for another payment"
		}
	}
	return rs, nil
}

// sameOrder reports whether two instructions under one id ask the same payment.
func sameOrder(a, b Instruction) bool {
	return a.Payer == b.Payer && a.Payee == b.Payee && a.Amount == b.Amount && a.Currency == b.Currency
}

// CheckInstruction checks one instruction on its own.
func CheckInstruction(in Instruction) error {
	switch {
	case in.ID == "" || len(in.ID) > 35:
		return fault.Invalidf("instruction_id", "must have 1 to 35 characters (ISO 20022 EndToEndId)")
	case iban.Check(string(in.Payer)) != nil:
		return fault.Invalidf("payer", "not a valid IBAN")
	case iban.Check(string(in.Payee)) != nil:
		return fault.Invalidf("payee", "not a valid IBAN")
	case in.Amount <= 0 || in.Amount > 1_000_000_00:
		return fault.Invalidf("amount", "must be between 1 and 100000000 minor units, got %d", in.Amount)
	case len(in.Currency) != 3:
		return fault.Invalidf("currency", "must be an ISO 4217 code")
	}
	for i := 0; i < len(in.ID); i++ {
		if c := in.ID[i]; c < 0x21 || c > 0x7e {
			return fault.Invalidf("instruction_id", "printable ASCII only")
		}
	}
	return nil
}

// Statement lists the postings of account on day.
func (d *Demo) Statement(ctx context.Context, account iban.IBAN, day date.Date) (Statement, error) {
	ps, err := d.Store.Postings(ctx, account, day)
	if err != nil {
		return Statement{}, err
	}
	st := Statement{ID: fmt.Sprintf("STMT-%s-%s", account.BBAN(), day), Account: account, Day: day, Lines: make([]Line, 0, len(ps))}
	for _, p := range ps {
		// A payment is debited; one that could not be credited comes back as a credit
		// naming the reason, as banks book a return.
		l := Line{Ref: p.ID, BankRef: p.BankRef, Payee: p.Payee, Amount: p.Amount, Currency: p.Currency, Booked: p.Booked, Status: Booked}
		st.Lines = append(st.Lines, l)
		if p.Status == Returned {
			l.Status, l.Reason, l.BankRef = Returned, p.Reason, p.BankRef+"R"
			st.Lines = append(st.Lines, l)
		}
	}
	return st, nil
}
