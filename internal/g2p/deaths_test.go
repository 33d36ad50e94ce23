package g2p

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/bank"
)

// TestDeathDeliveredBeforeThePayment: a death the hub delivers between registration and
// payment ends the right before the cycle: the person is not on the list, nothing is
// instructed, and the re-check has nobody left to find. Delivered again, it changes
// nothing; a death of someone not on the list neither.
func TestDeathDeliveredBeforeThePayment(t *testing.T) {
	f := registered(t)
	ctx := context.Background()
	const ella = "45010101336"
	n, err := f.s.Deaths(ctx, []Death{{Person: ella, Date: 20261210}, {Person: "65010100576", Date: 20261210}})
	if err != nil || n != 1 {
		t.Fatalf("Deaths = %d, %v; want 1 right ended", n, err)
	}
	if b, _ := f.s.Store.Beneficiary(ctx, ella); b.Status != Ended || b.EndReason != DeathReason || b.Ended != 20261210 {
		t.Errorf("after the delivery: %+v", b)
	}
	if n, err := f.s.Deaths(ctx, []Death{{Person: ella, Date: 20261210}}); err != nil || n != 0 {
		t.Errorf("the same death again = %d, %v; want 0", n, err)
	}
	recorded := false
	for _, a := range f.hub.actions {
		recorded = recorded || (a.Service == "g2p.rights" && len(a.Persons) == 1 && a.Persons[0] == ella)
	}
	if !recorded {
		t.Error("the right ended is not in the audit log")
	}
	rep, err := f.s.RunCycle(ctx, f.disburser(), payDay)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Listed != 2 || rep.Deceased != 0 || rep.Instructions != 2 {
		t.Errorf("cycle %+v; want 2 listed, nobody for the re-check, 2 instructions", rep)
	}
	ins, _ := f.s.Store.Instructions(ctx, Cycle(payDay))
	for _, in := range ins {
		if in.Person == ella {
			t.Errorf("an instruction for the dead beneficiary: %+v", in)
		}
	}
}

// TestDeathDeliveredAfterTheInstruction: a death delivered after the payment was
// instructed ends the right; the bank's return (MD07) is reconciled as any return of a
// deceased's payment: listed for the case worker, not paid again.
func TestDeathDeliveredAfterTheInstruction(t *testing.T) {
	f := registered(t)
	ctx := context.Background()
	const ella = "45010101336"
	if _, err := f.s.RunCycle(ctx, f.disburser(), payDay); err != nil {
		t.Fatal(err)
	}
	if n, err := f.s.Deaths(ctx, []Death{{Person: ella, Date: payDay}}); err != nil || n != 1 {
		t.Fatalf("Deaths = %d, %v", n, err)
	}
	st, err := f.bank.Statement(ctx, f.s.Programme.Account, payDay)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range st.Lines {
		if strings.HasSuffix(l.Ref, ella) {
			st.Lines[i].Status, st.Lines[i].Reason = bank.Returned, bank.ReasonDeceased
		}
	}
	var b bytes.Buffer
	bank.WriteCSV(&b, st)
	rec, err := f.s.Reconcile(ctx, Cycle(payDay), CSV, &b)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Paid != 2 || rec.Returned != 1 {
		t.Errorf("reconciliation %+v", rec)
	}
	next, err := f.s.RunCycle(ctx, f.disburser(), payDay.AddDays(31))
	if err != nil {
		t.Fatal(err)
	}
	if next.Arrears != 0 || next.Listed != 2 {
		t.Errorf("next cycle %+v: the dead beneficiary's return is not paid again", next)
	}
}

// A payment returned for MD07 (deceased) ends the right only when the civil register,
// asked through the hub, holds the person dead: a person it holds alive keeps the
// right, is listed for a case worker, and is not paid again by itself.
func TestReturnedDeceasedChecksTheRegister(t *testing.T) {
	f := registered(t)
	ctx := context.Background()
	const maria, ella = "50030100170", "45010101336"
	if _, err := f.s.RunCycle(ctx, f.disburser(), payDay); err != nil {
		t.Fatal(err)
	}
	f.hub.die(maria, payDay.AddDays(-1)) // Maria died; Ella is alive, whatever the bank says
	st, err := f.bank.Statement(ctx, f.s.Programme.Account, payDay)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range st.Lines {
		if strings.HasSuffix(l.Ref, ella) || strings.HasSuffix(l.Ref, maria) {
			st.Lines[i].Status, st.Lines[i].Reason = bank.Returned, bank.ReasonDeceased
		}
	}
	var b bytes.Buffer
	bank.WriteCSV(&b, st)
	rec, err := f.s.Reconcile(ctx, Cycle(payDay), CSV, &b)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Returned != 2 || rec.Ended != 1 {
		t.Errorf("reconciliation: returned %d, rights ended %d; want 2, 1", rec.Returned, rec.Ended)
	}
	if b, _ := f.s.Store.Beneficiary(ctx, maria); b.Status != Ended || b.EndReason != ReturnedDeceasedReason || b.Ended != payDay.AddDays(-1) {
		t.Errorf("Maria, dead in the register: %+v; want ended from her death", b)
	}
	if b, _ := f.s.Store.Beneficiary(ctx, ella); b.Status != Active {
		t.Errorf("Ella, alive in the register: %+v; want her right open", b)
	}
	found := false
	for _, d := range rec.Discrepancies {
		if d.Person == ella {
			found = d.Kind == KindReturned && strings.Contains(d.Action, "case worker") && strings.Contains(d.Action, "alive")
		}
	}
	if !found {
		t.Errorf("Ella's return is not listed for a case worker: %+v", rec.Discrepancies)
	}
	next, err := f.s.RunCycle(ctx, f.disburser(), payDay.AddDays(31))
	if err != nil {
		t.Fatal(err)
	}
	if next.Arrears != 0 || next.Listed != 2 {
		t.Errorf("next cycle: arrears %d, listed %d; want Ella's MD07 return not paid again, Maria off the list", next.Arrears, next.Listed)
	}
}
