// Package bank is what the hub needs of a paying bank, and the demo's bank. A bank is an
// institution of its own (Institution): it verifies an account for a programme (does it
// exist, is this person its holder: a yes/no and a name-match score, never the account's
// data), accepts payment instructions (idempotent by instruction id: an instruction sent
// twice is paid once) and produces statements, as ISO 20022 camt.053 XML or CSV, which
// the programme reconciles (package g2p). Demo is a bank of the synthetic nation whose
// accounts and payments live in a Store (SQLite or PostgreSQL in sqlstore; memory in
// tests and benchmarks).
package bank

import (
	"context"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/iban"
)

// Institution is a bank as a programme sees it. Real banks implement it over their own
// interface (G2P Connect disburse, ISO 20022 pain.001); Demo is the built-in one.
type Institution interface {
	// Verify says whether account exists and whether the person named is its holder.
	Verify(ctx context.Context, q VerifyRequest) (Verification, error)
	// Pay accepts instructions; an id already received is answered Duplicate and not
	// paid again. A malformed instruction is Rejected on its own.
	Pay(ctx context.Context, ins []Instruction) ([]Receipt, error)
	// Statement lists what was booked on the payer's account on day.
	Statement(ctx context.Context, account iban.IBAN, day date.Date) (Statement, error)
}

// VerifyRequest is an account verification: the account and whom the programme
// believes holds it.
type VerifyRequest struct {
	Account   iban.IBAN
	Name      string    // the holder's full name as the civil register has it
	BirthDate date.Date // optional: a second check when names are common
}

// Verification is the whole answer to VerifyRequest: no balance, no holder's name, no
// address. Score is 0–100 (100: the names are the same once normalised).
type Verification struct {
	Exists        bool `json:"exists"`
	Active        bool `json:"active"` // open, able to receive credits
	HolderMatches bool `json:"holder_matches"`
	Score         int  `json:"name_match_score"`
}

// MatchThreshold is the score from which a holder is taken to match.
const MatchThreshold = 80

// Instruction is one credit transfer from the programme's account to a beneficiary's.
// ID is the end-to-end id: it comes back on the statement line that settles it.
type Instruction struct {
	ID       string    `json:"instruction_id"`
	Batch    string    `json:"batch_id"`
	Payer    iban.IBAN `json:"payer"`
	Payee    iban.IBAN `json:"payee"`
	Amount   int64     `json:"amount"` // minor units (cents)
	Currency string    `json:"currency"`
	Day      date.Date `json:"day"`   // requested execution day
	Remit    string    `json:"remit"` // remittance text, e.g. "Old-age allowance 2026-12"
	Person   string    `json:"-"`     // kept by the programme, never sent to the bank
}

// Receipt statuses.
const (
	Accepted  = "accepted"
	Duplicate = "duplicate" // the id was received before: not paid again
	Rejected  = "rejected"
)

// Receipt is the bank's answer to one instruction.
type Receipt struct {
	ID     string `json:"instruction_id"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// Statement line statuses and ISO 20022 return reasons the demo bank uses.
const (
	Booked   = "booked"
	Returned = "returned"

	ReasonClosed   = "AC04" // closed account number
	ReasonUnknown  = "AC01" // incorrect account number
	ReasonDeceased = "MD07" // end customer deceased
)

// AccountReason tells whether a return's ISO 20022 reason is a fault of the account
// (incorrect, invalid, closed, blocked): the payment can be made again once the account
// is fixed. Any other reason (a death, a code the programme does not know) is for a
// case worker.
func AccountReason(code string) bool {
	switch code {
	case ReasonUnknown, "AC03", ReasonClosed, "AC06":
		return true
	}
	return false
}

// Line is one entry of a statement: a credit transfer booked or returned.
type Line struct {
	Ref      string    // end-to-end id: the instruction's id
	BankRef  string    // the bank's own reference of the entry
	Payee    iban.IBAN // the beneficiary's account
	Amount   int64     // minor units, positive
	Currency string
	Booked   date.Date
	Status   string // Booked or Returned
	Reason   string // a return's ISO 20022 reason code
}

// Statement is an account's entries of one day, camt.053's Stmt.
type Statement struct {
	ID      string
	Account iban.IBAN
	Day     date.Date
	Lines   []Line
}
