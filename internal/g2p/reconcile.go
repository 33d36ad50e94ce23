package g2p

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/bank"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Discrepancy kinds: what a case worker looks at.
const (
	KindReturned   = "returned"   // the bank could not credit the account (reason)
	KindMissing    = "missing"    // sent, absent from the statement
	KindUnexpected = "unexpected" // on the statement, never instructed by the programme
	KindDuplicate  = "duplicate"  // booked twice: the bank is asked to return one
	KindAmended    = "amended"    // booked with another amount or account than instructed
)

// Discrepancy is one line for the case worker.
type Discrepancy struct {
	Kind        string `json:"kind"`
	Instruction string `json:"instruction_id"`
	Person      string `json:"person,omitempty"`
	Detail      string `json:"detail"`
	Action      string `json:"action"` // what follows
}

// Reconciliation is the outcome of matching a statement with a cycle's instructions.
type Reconciliation struct {
	Cycle         string        `json:"cycle"`
	Statement     string        `json:"statement"`
	Lines         int           `json:"lines"`
	Paid          int           `json:"paid"`
	Returned      int           `json:"returned"`
	Missing       int           `json:"missing"`
	Unexpected    int           `json:"unexpected"`
	Duplicate     int           `json:"duplicate"`
	Amended       int           `json:"amended"`
	Ended         int           `json:"rights_ended"` // returned because the holder died
	Discrepancies []Discrepancy `json:"discrepancies"`
	Seq           int64         `json:"audit_record"`
}

// MaxDiscrepancies bounds the list kept in a report (the counts stay exact).
const MaxDiscrepancies = 10_000

// Statement formats.
const (
	CAMT053 = "camt053"
	CSV     = "csv"
)

// Reconcile reads the bank's statement (format CAMT053 or CSV) as a stream and matches
// it against the instructions of cycle: each sent instruction ends paid, returned (its
// reason; a returned payment is paid again in the next cycle, or the right ends when
// the holder died) or missing; a line of no instruction is unexpected, a second booking
// a duplicate, a booking of another amount or account amended. A statement that cannot
// be read changes nothing.
func (s *Service) Reconcile(ctx context.Context, cycle, format string, r io.Reader) (Reconciliation, error) {
	if d, err := date.Parse(cycle + "-01"); err != nil || Cycle(d) != cycle {
		return Reconciliation{}, fault.Invalidf("cycle", "%q is not a cycle: its month, YYYY-MM", clip(cycle))
	}
	ins, err := s.Store.Instructions(ctx, cycle)
	if err != nil {
		return Reconciliation{}, err
	}
	if len(ins) == 0 {
		return Reconciliation{}, fault.NotFoundf("cycle %s has no payment instructions: nothing to reconcile", cycle)
	}
	m := NewMatcher(cycle, ins)
	var head bank.StatementHead
	switch format {
	case CAMT053:
		head, err = bank.ParseCAMT053(r, m.Line)
	case CSV:
		head, err = bank.ParseCSV(r, m.Line)
	default:
		return Reconciliation{}, fault.Invalidf("format", "%q: camt053 or csv", clip(format))
	}
	if err != nil {
		return Reconciliation{}, err
	}
	if head.Account != s.Programme.Account {
		return Reconciliation{}, fault.Invalidf("account", "the statement is of another account than the programme's")
	}
	// The id is what makes a statement taken once (ISO 20022 makes Stmt/Id mandatory;
	// the CSV's statement column carries it).
	if strings.TrimSpace(head.ID) == "" {
		return Reconciliation{}, fault.Invalidf("statement", "the statement names no id (camt.053 Stmt/Id, the CSV's statement column): it could be taken twice")
	}
	key := "id:" + head.ID
	if taken, err := s.Store.StatementTaken(ctx, key); err != nil || taken {
		return Reconciliation{}, cmp.Or(err, statementTaken(head.ID))
	}
	rec, changed := m.Finish()
	rec.Statement = head.ID
	var dead []string
	for _, in := range changed {
		if in.Status == Returned && in.Reason == bank.ReasonDeceased {
			dead = append(dead, in.Person)
		}
	}
	// The civil register is asked before anything is kept: a hub that cannot answer
	// leaves the statement to be taken again.
	if err := s.returnedDeceased(ctx, dead, &rec); err != nil {
		return Reconciliation{}, err
	}
	// Taken once, even when posted twice at once: the second finds the key kept.
	if ok, err := s.Store.TakeStatement(ctx, key, cycle, changed); err != nil || !ok {
		return Reconciliation{}, cmp.Or(err, statementTaken(head.ID))
	}
	persons := make([]string, 0, len(rec.Discrepancies))
	for _, d := range rec.Discrepancies {
		if d.Person != "" {
			persons = append(persons, d.Person)
		}
	}
	// The outcome says nothing of the others: the record is indexed by each person it
	// names, and each may read it (the portal's "who consulted my data", its evidence);
	// the statement's figures stay in the programme's own report.
	rec.Seq, err = s.recordMany(ctx, Action{Service: "g2p.reconcile", Purpose: s.Programme.Name + " " + cycle,
		Outcome: "reconciled: a discrepancy for a case worker", Request: []byte(head.ID)}, persons)
	return rec, err
}

// statementTaken answers a statement taken before: nothing changes a second time.
func statementTaken(id string) error {
	return fault.Conflictf("statement", "statement %q was already taken: it changes nothing a second time (an amended statement needs an id of its own)", clip(id))
}

// ReturnedDeceasedReason is the end reason of a right ended on a payment the bank
// returned for MD07 (deceased), the civil register confirming the death.
const ReturnedDeceasedReason = "deceased (payment returned MD07, confirmed by the civil register)"

// returnedDeceased ends the rights of the persons whose payment the bank returned for
// MD07 (deceased) only when the civil register, asked through the hub like the
// re-check, holds them dead: a bank's word alone ends nobody's right. A person the
// register holds alive (or that it could not be asked about) is left to a case worker,
// the returned payment's discrepancy saying so.
func (s *Service) returnedDeceased(ctx context.Context, persons []string, rec *Reconciliation) error {
	byDay := map[date.Date][]string{}
	alive := map[string]string{}
	for _, p := range persons {
		r, _, err := s.Hub.Ask(ctx, DeathQuestion, p)
		if err != nil {
			if fault.KindOf(err) == fault.Unavailable || ctx.Err() != nil {
				return err // the statement is taken again when the hub answers
			}
			alive[p] = "the civil register could not be asked (" + fault.KindOf(err).String() + "): a case worker checks the death before the right ends"
			continue
		}
		d, err := date.Parse(str(r["death_date"]))
		if err != nil || d.IsZero() {
			alive[p] = "the bank says the holder died, the civil register holds them alive: a case worker checks it; the right stays open, nothing is paid again until then"
			continue
		}
		byDay[d] = append(byDay[d], p)
		rec.Ended++
	}
	for d, ps := range byDay {
		if err := s.Store.EndRights(ctx, ps, d, ReturnedDeceasedReason); err != nil {
			return err
		}
	}
	for i := range rec.Discrepancies {
		if why, ok := alive[rec.Discrepancies[i].Person]; ok && rec.Discrepancies[i].Kind == KindReturned {
			rec.Discrepancies[i].Action = why
		}
	}
	return nil
}

// Matcher matches statement lines with instructions, one line at a time.
type Matcher struct {
	rec   Reconciliation
	ins   map[string]*Instr
	seen  map[string]uint8 // bit 1: booked, bit 2: returned
	order []string
}

// NewMatcher starts matching a cycle's instructions.
func NewMatcher(cycle string, ins []Instr) *Matcher {
	m := &Matcher{rec: Reconciliation{Cycle: cycle, Discrepancies: []Discrepancy{}}, ins: make(map[string]*Instr, len(ins)),
		seen: make(map[string]uint8, len(ins)), order: make([]string, 0, len(ins))}
	for i := range ins {
		in := ins[i]
		m.ins[in.ID] = &in
		m.order = append(m.order, in.ID)
	}
	return m
}

func (m *Matcher) note(d Discrepancy) {
	if len(m.rec.Discrepancies) < MaxDiscrepancies {
		m.rec.Discrepancies = append(m.rec.Discrepancies, d)
	}
}

// Line matches one statement line.
func (m *Matcher) Line(l bank.Line) error {
	m.rec.Lines++
	in, ok := m.ins[l.Ref]
	if !ok || in.Status == Held {
		m.rec.Unexpected++
		m.note(Discrepancy{Kind: KindUnexpected, Instruction: clip(l.Ref), Detail: fmt.Sprintf("%s %s %s, bank ref %s", l.Status, bank.FormatAmount(l.Amount), l.Currency, clip(l.BankRef)),
			Action: "ask the bank: the programme never instructed it"})
		return nil
	}
	switch l.Status {
	case bank.Booked:
		if in.Status == Returned && m.seen[l.Ref] == 0 {
			// Returned on an earlier statement, booked on this one: the money came back
			// once already; the payment stays returned and a case worker asks the bank.
			m.rec.Amended++
			m.note(Discrepancy{Kind: KindAmended, Instruction: in.ID, Person: in.Person, Detail: "booked after the bank returned it (reason " + in.Reason + "), bank ref " + clip(l.BankRef),
				Action: "a case worker checks it with the bank; it stays returned"})
			return nil
		}
		if m.seen[l.Ref]&1 != 0 || (in.Status == Paid && m.seen[l.Ref] == 0) {
			m.rec.Duplicate++
			m.note(Discrepancy{Kind: KindDuplicate, Instruction: in.ID, Person: in.Person, Detail: "booked twice, bank ref " + clip(l.BankRef),
				Action: "ask the bank to return the second booking"})
			return nil
		}
		m.seen[l.Ref] |= 1
		if l.Amount != in.Amount || l.Payee != in.Payee || l.Currency != in.Currency {
			m.rec.Amended++
			m.note(Discrepancy{Kind: KindAmended, Instruction: in.ID, Person: in.Person,
				Detail: fmt.Sprintf("booked %s %s, instructed %s %s%s", bank.FormatAmount(l.Amount), l.Currency, bank.FormatAmount(in.Amount), in.Currency, sameAccount(l, in)),
				Action: "a case worker checks it with the bank"})
		}
	case bank.Returned:
		m.seen[l.Ref] |= 2
		in.Reason = l.Reason
	}
	return nil
}

func sameAccount(l bank.Line, in *Instr) string {
	if l.Payee != in.Payee {
		return ", to another account"
	}
	return ""
}

// Finish closes the matching: instructions sent and absent from the statement are
// missing. It returns the report and the instructions whose status changed.
func (m *Matcher) Finish() (Reconciliation, []Instr) {
	var changed []Instr
	for _, id := range m.order {
		in := m.ins[id]
		if in.Status == Held {
			continue
		}
		seen := m.seen[id]
		status := in.Status
		if seen == 0 && (status == Paid || status == Returned) {
			continue // settled by an earlier statement: absent from this one, not missing
		}
		switch {
		case seen&2 != 0:
			status = Returned
			m.rec.Returned++
			action := "an unknown return reason: a case worker looks into it; not paid again by itself"
			switch {
			case in.Reason == bank.ReasonDeceased:
				action = "the right ends: the holder died"
			case bank.AccountReason(in.Reason):
				action = "paid again in the next cycle once the account is linked anew (mapper update)"
			}
			m.note(Discrepancy{Kind: KindReturned, Instruction: id, Person: in.Person, Detail: "returned, reason " + in.Reason, Action: action})
		case seen&1 != 0:
			status = Paid
			m.rec.Paid++
		default:
			status = Missing
			m.rec.Missing++
			m.note(Discrepancy{Kind: KindMissing, Instruction: id, Person: in.Person, Detail: "sent, not on the statement",
				Action: "look for it on the next statement, then ask the bank"})
		}
		if status != in.Status {
			in.Status = status
			changed = append(changed, *in)
		}
	}
	return m.rec, changed
}
