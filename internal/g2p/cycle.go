package g2p

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/crossroads-hub/crossroads/internal/bank"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/iban"
)

// CycleReport is what one payment cycle did.
type CycleReport struct {
	Cycle        string    `json:"cycle"`
	PayDay       date.Date `json:"pay_day"`
	Listed       int       `json:"listed"`       // beneficiaries with an open right
	Deceased     int       `json:"deceased"`     // found dead at the re-check: right ended, nothing paid
	Arrears      int       `json:"arrears"`      // returned payments paid again
	Unlinked     int       `json:"unlinked"`     // no account: held
	Instructions int       `json:"instructions"` // sent to the bank
	New          int       `json:"new"`          // of which not sent before
	Accepted     int       `json:"accepted"`
	Duplicates   int       `json:"duplicates"` // sent before: the bank paid them once
	Rejected     int       `json:"rejected"`
	Seqs         []int64   `json:"audit_records"` // re-check, resolution, disbursement
	Steps        []Step    `json:"steps"`
}

// InstrID is the id of a cycle's payment to person: the same every time the cycle is
// prepared, so a cycle run twice sends the same ids and the bank pays once.
func (s *Service) InstrID(cycle, person string) string {
	return s.Programme.Code + "-" + cycle + "-" + person
}

// RunCycle prepares and sends the payments of the month of payDay: the list, the
// re-check against the civil register (a death ends the right and holds the payment),
// returned payments of earlier cycles paid again, the accounts resolved through the
// mapper, the instructions kept (one id per person and cycle), sent to the bank through
// the disburse interface, and the bank's answers kept.
func (s *Service) RunCycle(ctx context.Context, d Disburser, payDay date.Date) (CycleReport, error) {
	rep := CycleReport{Cycle: Cycle(payDay), PayDay: payDay}
	if err := CheckPayDay(payDay, s.today()); err != nil {
		return rep, err
	}
	if err := s.samePayDay(ctx, rep.Cycle, payDay); err != nil {
		return rep, err
	}
	var list []Beneficiary
	var alive []string
	err := s.timed(&rep.Steps, "list", func(st *Step) error {
		var err error
		list, err = s.Store.Beneficiaries(ctx, payDay)
		rep.Listed = len(list)
		return err
	})
	if err != nil {
		return rep, err
	}
	if err := s.timed(&rep.Steps, "death-recheck", func(st *Step) error {
		var seq int64
		var err error
		alive, seq, err = s.recheck(ctx, list, &rep)
		st.Seqs, rep.Seqs = append(st.Seqs, seq), append(rep.Seqs, seq)
		return err
	}); err != nil {
		return rep, err
	}
	var ins []Instr
	var pay int64 // this run's record of the instructions
	if err := s.timed(&rep.Steps, "instructions", func(st *Step) error {
		var seqs []int64
		var err error
		ins, seqs, err = s.instructions(ctx, rep.Cycle, payDay, alive, &rep)
		if len(seqs) == 2 {
			pay = seqs[1]
		}
		st.Seqs, rep.Seqs = append(st.Seqs, seqs...), append(rep.Seqs, seqs...)
		return err
	}); err != nil {
		return rep, err
	}
	err = s.timed(&rep.Steps, "disburse", func(st *Step) error {
		seqs, err := s.send(ctx, d, ins, pay, &rep)
		st.Seqs = append(st.Seqs, seqs...)
		for _, seq := range seqs { // the instructions' record is the disbursement's too: listed once
			if !slices.Contains(rep.Seqs, seq) {
				rep.Seqs = append(rep.Seqs, seq)
			}
		}
		return err
	})
	return rep, err
}

// CheckPayDay refuses a pay day outside the cycles a programme can pay on today: the
// current month's (a cycle run again after its pay day, to finish it) or the next
// month's. A day a century ahead would instruct every beneficiary a century early; one
// years back would pay a cycle nobody owes.
func CheckPayDay(payDay, today date.Date) error {
	if payDay.IsZero() {
		return fault.Invalidf("pay_day", "the day of payment is missing, YYYY-MM-DD")
	}
	first := date.Of(today.Year(), today.Month(), 1)
	next := first.AddDays(31)
	last := date.Of(next.Year(), next.Month(), 1).AddDays(31)
	last = date.Of(last.Year(), last.Month(), 1).AddDays(-1)
	if payDay < first || payDay > last {
		return fault.Invalidf("pay_day", "%s is outside the cycles that can be paid today (%s): from %s to %s, this month's or next month's",
			payDay, today, first, last)
	}
	return nil
}

// samePayDay refuses a second pay day for a cycle prepared before: its month's list
// on another day would be another list, and its kept instructions would be sent
// again under the first day. The same day again is a cycle run again: the same ids,
// paid once.
func (s *Service) samePayDay(ctx context.Context, cycle string, payDay date.Date) error {
	kept, err := s.Store.Instructions(ctx, cycle)
	if err != nil {
		return err
	}
	for _, in := range kept {
		if in.Arrears == "" && in.Day != payDay {
			return fault.Conflictf("pay_day", "cycle %s was prepared for %s: run it again with that pay day, or wait for the next cycle", cycle, in.Day)
		}
	}
	return nil
}

// everDied is the lower bound of the re-check's question: any death, whatever its date.
var everDied = date.Of(1, 1, 1)

// recheck asks the civil register, in one question by filter over the programme's
// files, who of them died, whatever the date of death (a death recorded late, dated
// before the registration, is the fraud the check exists for), ends their rights and
// returns the living. The question reads only the programme's files, so its answer
// grows with the deaths among them, not with the register.
func (s *Service) recheck(ctx context.Context, list []Beneficiary, rep *CycleReport) ([]string, int64, error) {
	if len(list) == 0 {
		return nil, 0, nil
	}
	since := everDied
	dead, seqs, err := s.Hub.Deceased(ctx, DeathQuestion, since)
	var seq int64
	if len(seqs) > 0 {
		seq = seqs[0]
	}
	if err != nil {
		return nil, seq, err
	}
	alive := make([]string, 0, len(list))
	byDay := map[date.Date][]string{}
	for _, b := range list {
		if d, ok := dead[b.Person]; ok {
			byDay[d] = append(byDay[d], b.Person)
			rep.Deceased++
			continue
		}
		alive = append(alive, b.Person)
	}
	for d, ps := range byDay {
		if err := s.Store.EndRights(ctx, ps, d, "deceased"); err != nil {
			return nil, seq, err
		}
	}
	return alive, seq, nil
}

// instructions builds the cycle's instructions (and arrears) and keeps them.
// It returns the records of the accounts' resolution and of the instructions.
func (s *Service) instructions(ctx context.Context, cycle string, payDay date.Date, alive []string, rep *CycleReport) ([]Instr, []int64, error) {
	returned, err := s.Store.Returned(ctx)
	if err != nil {
		return nil, nil, err
	}
	living := make(map[string]bool, len(alive))
	for _, p := range alive {
		living[p] = true
	}
	type due struct {
		person, arrears, id string
		amount              int64
		returned            date.Date // an arrears' returned payment's day
		returnedBy          iban.IBAN // and the account that returned it
	}
	dues := make([]due, 0, len(alive)+len(returned))
	for _, p := range alive {
		dues = append(dues, due{person: p, id: s.InstrID(cycle, p), amount: s.Programme.Amount})
	}
	for _, r := range returned {
		// Paid again only for a fault of the account, once it is fixed (below). A return
		// for MD07 (the right ended, or a case worker checks a person the register holds
		// alive) or for a reason the programme does not know is never paid again by itself.
		if living[r.Person] && r.Cycle != cycle && bank.AccountReason(r.Reason) {
			dues = append(dues, due{person: r.Person, arrears: r.ID, id: r.ID + "R", amount: r.Amount, returned: r.Day, returnedBy: r.Payee})
		}
	}
	persons := make([]string, 0, len(dues))
	for _, d := range dues {
		persons = append(persons, d.person)
	}
	slices.Sort(persons)
	persons = slices.Compact(persons)
	maps, seq, err := s.resolve(ctx, persons) // the list's own persons
	if err != nil {
		return nil, []int64{seq}, err
	}
	ins := make([]Instr, 0, len(dues))
	for _, d := range dues {
		// A returned payment waits for another account to be linked after it: paid
		// again to the account that returned it (linked anew or not), it would only come
		// back.
		if m, ok := maps[d.person]; d.arrears != "" && (!ok || m.Linked.Before(d.returned.Time().AddDate(0, 0, 1)) || m.FA == d.returnedBy) {
			continue
		}
		in := Instr{ID: d.id, Cycle: cycle, Person: d.person, Amount: d.amount, Currency: s.Programme.Currency, Day: payDay, Status: Sent, Arrears: d.arrears}
		if d.arrears != "" {
			rep.Arrears++
		}
		m, ok := maps[d.person]
		if !ok {
			in.Status, in.Reason = Held, "no account linked"
			rep.Unlinked++
		}
		in.Payee = m.FA
		ins = append(ins, in)
	}
	// The payments are recorded before they are kept and sent: an instruction the audit
	// log does not hold is never sent.
	sent := make([]string, 0, len(ins))
	for _, in := range ins {
		if in.Status != Held {
			sent = append(sent, in.Person)
		}
	}
	pay, err := s.recordMany(ctx, Action{Service: "g2p.disburse", Purpose: s.Programme.Name + " " + cycle, Outcome: "instructed",
		Request: []byte(cycle)}, sent)
	if err != nil {
		return nil, []int64{seq}, err
	}
	seqs := []int64{seq, pay}
	for i := range ins {
		ins[i].Seq = pay
	}
	n, err := s.Store.AddInstructions(ctx, ins)
	rep.New = n
	if err != nil {
		return nil, seqs, err
	}
	// What the store holds is what is sent: a cycle prepared before keeps its
	// instructions (and their ids).
	held, err := s.Store.Instructions(ctx, cycle)
	return held, seqs, err
}

// send sends the instructions not held, in messages of MaxDisbursements, records each
// message naming its persons, and keeps the bank's answers.
func (s *Service) send(ctx context.Context, d Disburser, ins []Instr, pay int64, rep *CycleReport) ([]int64, error) {
	var seqs []int64
	todo := make([]int, 0, len(ins))
	for i := range ins {
		if ins[i].Status != Held {
			todo = append(todo, i)
		}
	}
	rep.Instructions = len(todo)
	if len(todo) > 0 && pay != 0 {
		// This run's record of the instructions, written before they are sent (the kept
		// instructions of a cycle run again carry the first run's).
		seqs = append(seqs, pay)
	}
	for start := 0; start < len(todo); start += MaxDisbursements {
		part := todo[start:min(start+MaxDisbursements, len(todo))]
		req := DisburseRequest{TransactionID: fmt.Sprintf("%s-%s-%d", s.Programme.Code, rep.Cycle, start/MaxDisbursements+1),
			Disbursements: make([]Disbursement, len(part))}
		for k, i := range part {
			req.Disbursements[k] = s.disbursement(ins[i])
		}
		res, err := d.Disburse(ctx, req)
		if err != nil {
			return seqs, err
		}
		byRef := make(map[string]DisbursementStatus, len(res.Statuses))
		for _, st := range res.Statuses {
			byRef[st.ReferenceID] = st
		}
		upd := make([]Instr, 0, len(part))
		for _, i := range part {
			in := ins[i]
			st := byRef[in.ID]
			switch {
			case st.Status == "succ":
				rep.Accepted++
			case st.ReasonCode == "rjct.reference_id.duplicate":
				rep.Duplicates++ // sent before: its state stays what it was
			default:
				rep.Rejected++
				in.Status, in.Reason = Held, "the bank refused it: "+st.ReasonMessage
				upd = append(upd, in)
			}
		}
		if err := s.Store.SetInstructions(ctx, upd); err != nil {
			return seqs, err
		}
	}
	return seqs, nil
}

// recordMany records a naming persons, in records of at most
// exchange.MaxAuditPersons, written together; the first record's seq.
func (s *Service) recordMany(ctx context.Context, a Action, persons []string) (int64, error) {
	var parts [][]string
	for start := 0; start < len(persons); start += exchange.MaxAuditPersons {
		parts = append(parts, persons[start:min(start+exchange.MaxAuditPersons, len(persons))])
	}
	if len(parts) == 0 {
		parts = [][]string{nil}
	}
	seqs := make([]int64, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i, p := range parts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			b := a
			b.Persons = p
			if len(parts) > 1 {
				b.Reasons = append(slices.Clip(a.Reasons), fmt.Sprintf("part %d of %d", i+1, len(parts)))
			}
			seqs[i], errs[i] = s.Hub.Record(ctx, b)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return slices.Min(seqs), nil
}
