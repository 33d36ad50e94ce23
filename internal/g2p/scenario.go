package g2p

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bank"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Scenario runs the whole chain for applicants of the demo: registration (reading the
// code from the demo's outbox, as the applicant reads the SMS), the payment cycle, the
// bank's statement and its reconciliation.
type Scenario struct {
	Service   *Service
	Bank      bank.Institution
	Disburser Disburser
	Outbox    *Outbox
}

// Mobile is the demo's mobile number of person.
func Mobile(person string) string { return "+9996" + person[len(person)-8:] }

// Register registers one applicant as they would: a code to their mobile, read from
// the outbox and entered.
func (sc *Scenario) Register(ctx context.Context, person string) (Registration, error) {
	acct, err := bank.DemoAccount(person)
	if err != nil {
		return Registration{}, err
	}
	r, err := sc.Service.Start(ctx, Application{Person: person, Mobile: Mobile(person), Account: string(acct)})
	if err != nil {
		return r, err
	}
	code, err := sc.lastCode(Mobile(person))
	if err != nil {
		return r, err
	}
	return sc.Service.Confirm(ctx, r.ID, code)
}

func (sc *Scenario) lastCode(number string) (string, error) {
	ms := sc.Outbox.To(number)
	if len(ms) == 0 {
		return "", fault.NotFoundf("no SMS to %s", number)
	}
	text := ms[len(ms)-1].Text
	i := strings.Index(text, "code is ")
	if i < 0 || len(text) < i+8+CodeDigits {
		return "", fault.NotFoundf("no code in the last SMS to %s", number)
	}
	return text[i+8 : i+8+CodeDigits], nil
}

// Pay runs the cycle of payDay's month, fetches the bank's statement of payDay as
// camt.053 and reconciles it: the steps after registration.
func (sc *Scenario) Pay(ctx context.Context, payDay date.Date) (CycleReport, Reconciliation, []Step, error) {
	var steps []Step
	rep, err := sc.Service.RunCycle(ctx, sc.Disburser, payDay)
	steps = append(steps, rep.Steps...)
	if err != nil {
		return rep, Reconciliation{}, steps, err
	}
	var doc bytes.Buffer
	err = sc.Service.timed(&steps, "statement", func(st *Step) error {
		s, err := sc.Bank.Statement(ctx, sc.Service.Programme.Account, payDay)
		if err != nil {
			return err
		}
		st.Why = fmt.Sprintf("%d lines, camt.053", len(s.Lines))
		return bank.WriteCAMT053(&doc, s, time.Now().UTC().Format(time.RFC3339))
	})
	if err != nil {
		return rep, Reconciliation{}, steps, err
	}
	st := steps[len(steps)-1]
	st.Why = fmt.Sprintf("%s, %d bytes", st.Why, doc.Len())
	steps[len(steps)-1] = st
	var rec Reconciliation
	err = sc.Service.timed(&steps, "reconciliation", func(st *Step) error {
		var err error
		rec, err = sc.Service.Reconcile(ctx, Cycle(payDay), CAMT053, &doc)
		st.Seqs = []int64{rec.Seq}
		st.Why = fmt.Sprintf("paid %d, returned %d, missing %d, unexpected %d, duplicate %d, amended %d",
			rec.Paid, rec.Returned, rec.Missing, rec.Unexpected, rec.Duplicate, rec.Amended)
		return err
	})
	return rep, rec, steps, err
}

// NextPayDay is the programme's next pay day after today (this month's, or next
// month's when it has passed).
func (p *Programme) NextPayDay(today date.Date) date.Date {
	d := p.PayDate(today)
	if d <= today {
		n := date.Of(today.Year(), today.Month(), 1).AddDays(31)
		d = p.PayDate(n)
	}
	return d
}
