package g2p

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bank"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/dci/dcitest"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/iban"
)

const payDay = date.Date(20261225)

// registered is a fixture with three beneficiaries: Maria Peeters and Anna Wouters
// (whose account is opened for the test), and Ella Maes.
func registered(t *testing.T) *fixture {
	f := newFixture(t)
	ctx := context.Background()
	a, _ := bank.DemoAccount("51010100969")
	f.bank.Store.PutAccounts(ctx, []bank.Account{{IBAN: a, Holder: "Anna Wouters", Person: "51010100969", BirthDate: 19510101}})
	f.hub.person("45010101336", "Ella", "Maes", 19450101, 600, 0)
	e, _ := bank.DemoAccount("45010101336")
	f.bank.Store.PutAccounts(ctx, []bank.Account{{IBAN: e, Holder: "Ella Maes", Person: "45010101336", BirthDate: 19450101}})
	for _, p := range []string{"50030100170", "51010100969", "45010101336"} {
		if r := f.register(t, p, f.account(p)); r.Status != Registered {
			t.Fatalf("%s: %s %+v", p, r.Status, r.Steps)
		}
	}
	return f
}

func (f *fixture) disburser() BankDisburser {
	return BankDisburser{Bank: f.bank, Now: func() time.Time { return *f.clock }}
}

func ptr[T any](v T) *T { return &v }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestCycleOnceAndDeath(t *testing.T) {
	f := registered(t)
	ctx := context.Background()
	f.hub.die("45010101336", 20261220) // died after registering, before the payment
	rep, err := f.s.RunCycle(ctx, f.disburser(), payDay)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Listed != 3 || rep.Deceased != 1 || rep.Instructions != 2 || rep.Accepted != 2 || rep.New != 2 {
		t.Fatalf("cycle: %+v", rep)
	}
	if seqs := slices.Compact(slices.Sorted(slices.Values(rep.Seqs))); len(seqs) != len(rep.Seqs) {
		t.Errorf("the cycle's audit records %v name one twice (outsider finding)", rep.Seqs)
	}
	if b, _ := f.s.Store.Beneficiary(ctx, "45010101336"); b.Status != Ended || b.EndReason != "deceased" || b.Ended != 20261220 {
		t.Errorf("the dead beneficiary: %+v", b)
	}
	// The cycle run again (a crash, an operator's mistake) pays nothing more.
	again, err := f.s.RunCycle(ctx, f.disburser(), payDay)
	if err != nil {
		t.Fatal(err)
	}
	if again.Duplicates != 2 || again.Accepted != 0 || again.New != 0 {
		t.Fatalf("cycle again: %+v", again)
	}
	f.clock = ptr(payDay.Time())
	st, err := f.bank.Statement(ctx, f.s.Programme.Account, payDay)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Lines) != 2 {
		t.Fatalf("the bank booked %d payments; want 2: %+v", len(st.Lines), st.Lines)
	}
}

// A death recorded late, dated before the registration (the fraud the checks exist
// for) and long before the pay day, is found by the re-check: the right ends, nothing
// is paid.
func TestCycleDeathBeforeRegistration(t *testing.T) {
	f := registered(t)
	ctx := context.Background()
	f.hub.die("45010101336", 20250301)
	rep, err := f.s.RunCycle(ctx, f.disburser(), payDay)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deceased != 1 || rep.Instructions != 2 {
		t.Fatalf("cycle: deceased %d, instructions %d; want 1, 2", rep.Deceased, rep.Instructions)
	}
	if b, _ := f.s.Store.Beneficiary(ctx, "45010101336"); b.Status != Ended || b.EndReason != "deceased" {
		t.Errorf("the dead beneficiary: %+v", b)
	}
}

func TestReconcile(t *testing.T) {
	f := registered(t)
	ctx := context.Background()
	// Anna's account is closed after she registered: her payment comes back.
	a, _ := bank.DemoAccount("51010100969")
	f.bank.Store.PutAccounts(ctx, []bank.Account{{IBAN: a, Holder: "Anna Wouters", Person: "51010100969", BirthDate: 19510101, Closed: true}})
	if _, err := f.s.RunCycle(ctx, f.disburser(), payDay); err != nil {
		t.Fatal(err)
	}
	st, err := f.bank.Statement(ctx, f.s.Programme.Account, payDay)
	if err != nil {
		t.Fatal(err)
	}
	// Tamper with the statement as banks' statements go wrong: a line of no
	// instruction, Maria's payment booked twice, Ella's with another amount.
	var maria, ella bank.Line
	for _, l := range st.Lines {
		switch {
		case strings.HasSuffix(l.Ref, "50030100170"):
			maria = l
		case strings.HasSuffix(l.Ref, "45010101336"):
			ella = l
		}
	}
	ella.Amount = 2500
	lines := []bank.Line{maria, maria, ella}
	for _, l := range st.Lines {
		if strings.HasSuffix(l.Ref, "51010100969") {
			lines = append(lines, l)
		}
	}
	stranger := maria
	stranger.Ref, stranger.BankRef = "SOMEONE-ELSE-1", "X1"
	lines = append(lines, stranger)
	sent, _ := f.s.Store.Instructions(ctx, Cycle(payDay))
	for _, format := range []string{CSV, CAMT053} {
		// Each format reconciles the cycle as sent, under a statement id of its own.
		if err := f.s.Store.SetInstructions(ctx, sent); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		tampered := bank.Statement{ID: st.ID + "-" + format, Account: st.Account, Day: st.Day, Lines: lines}
		if format == CSV {
			bank.WriteCSV(&b, tampered)
		} else {
			bank.WriteCAMT053(&b, tampered, "2026-12-25T18:00:00Z")
		}
		rec, err := f.s.Reconcile(ctx, rep(payDay), format, &b)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Paid != 2 || rec.Returned != 1 || rec.Duplicate != 1 || rec.Unexpected != 1 || rec.Amended != 1 || rec.Missing != 0 {
			t.Errorf("%s: %+v", format, rec)
		}
		kinds := map[string]int{}
		for _, d := range rec.Discrepancies {
			kinds[d.Kind]++
			if d.Action == "" {
				t.Errorf("%s: discrepancy without action %+v", format, d)
			}
		}
		if kinds[KindReturned] != 1 || kinds[KindDuplicate] != 1 || kinds[KindUnexpected] != 1 || kinds[KindAmended] != 1 {
			t.Errorf("%s: discrepancies %+v", format, rec.Discrepancies)
		}
	}
	// The same statement again is recognised: nothing changes, a conflict says so. A
	// later statement without the payments settled before leaves them settled.
	var again bytes.Buffer
	bank.WriteCSV(&again, bank.Statement{ID: st.ID + "-" + CAMT053, Account: st.Account, Day: st.Day, Lines: lines})
	if _, err := f.s.Reconcile(ctx, Cycle(payDay), CSV, &again); fault.KindOf(err) != fault.Conflict || !strings.Contains(err.Error(), "already taken") {
		t.Errorf("the same statement twice: %v; want a conflict saying it was taken", err)
	}
	again.Reset()
	bank.WriteCSV(&again, bank.Statement{ID: st.ID + "-later", Account: st.Account, Day: st.Day.AddDays(1), Lines: []bank.Line{maria}})
	later, err := f.s.Reconcile(ctx, Cycle(payDay), CSV, &again)
	if err != nil || later.Missing != 0 || later.Paid != 0 || later.Duplicate != 1 {
		t.Errorf("a later statement booking Maria again: %+v, %v; want her duplicate, nothing missing", later, err)
	}
	for _, in := range must(f.s.Store.Instructions(ctx, Cycle(payDay))) {
		if in.Person != "51010100969" && in.Status != Paid {
			t.Errorf("after a later statement: %s is %s; want paid", in.ID, in.Status)
		}
	}
	// Anna's payment, returned on the first statement, booked on a later one (re-check
	// finding): a discrepancy for a case worker, and it stays returned.
	for _, l := range st.Lines {
		if strings.HasSuffix(l.Ref, "51010100969") {
			l.Status, l.Reason = bank.Booked, ""
			again.Reset()
			bank.WriteCSV(&again, bank.Statement{ID: st.ID + "-booked-after", Account: st.Account, Day: st.Day.AddDays(2), Lines: []bank.Line{l}})
		}
	}
	booked, err := f.s.Reconcile(ctx, Cycle(payDay), CSV, &again)
	if err != nil || booked.Amended != 1 || booked.Paid != 0 || len(booked.Discrepancies) != 1 || !strings.Contains(booked.Discrepancies[0].Detail, "after the bank returned it") {
		t.Errorf("a payment returned, then booked on a later statement: %+v, %v; want one discrepancy, nothing paid", booked, err)
	}
	for _, in := range must(f.s.Store.Instructions(ctx, Cycle(payDay))) {
		if in.Person == "51010100969" && in.Status != Returned {
			t.Errorf("Anna's payment, booked after its return: %s; want it to stay returned", in.Status)
		}
	}
	// The returned payment (AC04, closed) is not paid again to the account that
	// returned it (outsider finding); it re-enters the cycle once Anna's account is
	// linked anew.
	f.clock = ptr(payDay.AddDays(1).Time().Add(9 * time.Hour))
	f.bank.Store.PutAccounts(ctx, []bank.Account{{IBAN: a, Holder: "Anna Wouters", Person: "51010100969", BirthDate: 19510101}})
	next, err := f.s.RunCycle(ctx, f.disburser(), payDay.AddDays(31))
	if err != nil {
		t.Fatal(err)
	}
	if next.Arrears != 0 || next.Instructions != 3 {
		t.Errorf("next cycle, the account not linked anew: arrears %d, instructions %d; want 0, 3", next.Arrears, next.Instructions)
	}
	// The same account linked again (an update naming it, outsider finding): still not
	// paid again there.
	if _, err := f.s.link(ctx, Mapping{Person: "51010100969", FA: a, Bank: f.s.BankCode, Name: "Anna Wouters", Linked: *f.clock}); err != nil {
		t.Fatal(err)
	}
	next, err = f.s.RunCycle(ctx, f.disburser(), payDay.AddDays(31))
	if err != nil {
		t.Fatal(err)
	}
	if next.Arrears != 0 {
		t.Errorf("next cycle, the account that returned the payment linked again: arrears %d; want 0", next.Arrears)
	}
	// Another account of hers linked after the return: the arrears go there.
	b2, err := iban.Make("XC", bank.BankCode+"51010100969"+"1")
	if err != nil {
		t.Fatal(err)
	}
	f.bank.Store.PutAccounts(ctx, []bank.Account{{IBAN: b2, Holder: "Anna Wouters", Person: "51010100969", BirthDate: 19510101}})
	if _, err := f.s.link(ctx, Mapping{Person: "51010100969", FA: b2, Bank: f.s.BankCode, Name: "Anna Wouters", Linked: *f.clock}); err != nil {
		t.Fatal(err)
	}
	next, err = f.s.RunCycle(ctx, f.disburser(), payDay.AddDays(31))
	if err != nil {
		t.Fatal(err)
	}
	if next.Arrears != 1 || next.Instructions != 4 || next.Accepted != 1 || next.Duplicates != 3 {
		t.Errorf("next cycle, the account linked anew: %+v", next)
	}
	// A statement missing a sent payment reports it missing; an empty one is refused.
	var b bytes.Buffer
	bank.WriteCSV(&b, bank.Statement{ID: "S2", Account: f.s.Programme.Account, Lines: []bank.Line{maria}})
	f.s.Store.SetInstructions(ctx, nil)
	rec, err := f.s.Reconcile(ctx, rep(payDay.AddDays(31)), CSV, &b)
	if err != nil || rec.Missing != 4 || rec.Unexpected != 1 {
		t.Errorf("statement without the cycle's payments: %+v, %v", rec, err)
	}
	if _, err := f.s.Reconcile(ctx, rep(payDay), CSV, strings.NewReader("statement,account\n")); fault.KindOf(err) != fault.Invalid {
		t.Errorf("a bad statement = %v; want invalid", err)
	}
	other, _ := bank.DemoAccount("50030100170")
	b.Reset()
	bank.WriteCSV(&b, bank.Statement{ID: "S3", Account: other, Lines: []bank.Line{maria}})
	if _, err := f.s.Reconcile(ctx, rep(payDay), CSV, &b); err == nil || !strings.Contains(err.Error(), "another account") {
		t.Errorf("another account's statement = %v", err)
	}
}

func rep(d date.Date) string { return Cycle(d) }

// TestResolveOnlyOwnList is the attack test of the mapper: a programme resolves the
// accounts of its own beneficiaries only; an attempt naming another person is refused
// as a whole and recorded as a refusal naming everyone asked.
func TestResolveOnlyOwnList(t *testing.T) {
	f := registered(t)
	ctx := context.Background()
	ms, _, err := f.s.Resolve(ctx, []string{"50030100170"})
	if err != nil || ms["50030100170"].FA == "" {
		t.Fatalf("own beneficiary: %v %v", ms, err)
	}
	for _, ask := range [][]string{{"50010100750"}, {"50030100170", "50010100750"}, {"65010100576"}} {
		before := len(f.hub.actions)
		ms, seq, err := f.s.Resolve(ctx, ask)
		if fault.KindOf(err) != fault.Forbidden || ms != nil || seq == 0 {
			t.Errorf("Resolve(%v) = %v, %d, %v; want forbidden, recorded", ask, ms, seq, err)
		}
		last := f.hub.actions[len(f.hub.actions)-1]
		if len(f.hub.actions) != before+1 || !last.Deny || strings.Join(last.Persons, ",") != strings.Join(ask, ",") {
			t.Errorf("Resolve(%v) recorded %+v", ask, last)
		}
	}
	if _, err := f.s.Unlink(ctx, "50010100750"); fault.KindOf(err) != fault.Forbidden {
		t.Errorf("Unlink of another person = %v", err)
	}
	if st, _ := f.s.Update(ctx, "50010100750", bank.ProgrammeAccount()); st.Outcome != Refused {
		t.Errorf("Update of another person = %+v", st)
	}
}

// TestReplayedInstruction: a disbursement replaying an instruction id with another
// payee or amount is refused by the bank and pays nothing.
func TestReplayedInstruction(t *testing.T) {
	f := registered(t)
	ctx := context.Background()
	if _, err := f.s.RunCycle(ctx, f.disburser(), payDay); err != nil {
		t.Fatal(err)
	}
	ins, _ := f.s.Store.Instructions(ctx, Cycle(payDay))
	item := f.s.disbursement(ins[0])
	thief, _ := bank.DemoAccount("50010100750")
	item.PayeeFA = FinancialAddress(thief, "demo-bank")
	res, err := f.disburser().Disburse(ctx, DisburseRequest{TransactionID: "replay", Disbursements: []Disbursement{item}})
	if err != nil || res.Statuses[0].Status != "rjct" {
		t.Fatalf("replay = %+v, %v", res, err)
	}
	item = f.s.disbursement(ins[0])
	res, _ = f.disburser().Disburse(ctx, DisburseRequest{TransactionID: "again", Disbursements: []Disbursement{item}})
	if res.Statuses[0].ReasonCode != "rjct.reference_id.duplicate" {
		t.Fatalf("same again = %+v", res)
	}
	st, _ := f.bank.Statement(ctx, f.s.Programme.Account, payDay)
	if len(st.Lines) != 3 {
		t.Errorf("the bank booked %d lines; want 3", len(st.Lines))
	}
}

func TestDisburseBadInput(t *testing.T) {
	f := newFixture(t)
	good := Disbursement{ReferenceID: "R1", PayerFA: FinancialAddress(bank.ProgrammeAccount(), "demo-bank"),
		PayeeFA: "iban:" + f.account("50030100170") + "@demo-bank", Amount: "250.00", CurrencyCode: "XCD"}
	cases := []struct {
		mod  func(*Disbursement)
		code string
	}{
		{func(d *Disbursement) { d.PayeeFA = "iban:XC00@x" }, "rjct.payee_fa.invalid"},
		{func(d *Disbursement) { d.PayerFA = "" }, "rjct.payer_fa.invalid"},
		{func(d *Disbursement) { d.Amount = "-1" }, "rjct.amount.invalid"},
		{func(d *Disbursement) { d.Amount = "0.00" }, "rjct.amount.invalid"},
		{func(d *Disbursement) { d.CurrencyCode = "X" }, "rjct.currency_code.invalid"},
		{func(d *Disbursement) { d.ReferenceID = "" }, "rjct.reference_id.invalid"},
		{func(d *Disbursement) { d.Scheduled = "2026-12-25" }, "rjct.schedule_ts.invalid"},
	}
	for _, c := range cases {
		d := good
		c.mod(&d)
		res, err := f.disburser().Disburse(context.Background(), DisburseRequest{TransactionID: "T", Disbursements: []Disbursement{d}})
		if err != nil || res.Statuses[0].Status != "rjct" || res.Statuses[0].ReasonCode != c.code {
			t.Errorf("Disburse(%+v) = %+v, %v; want %s", d, res, err, c.code)
		}
	}
	if _, err := f.disburser().Disburse(context.Background(), DisburseRequest{}); fault.KindOf(err) != fault.Invalid {
		t.Errorf("no transaction id = %v", err)
	}
}

// TestDisburseMessagesMatchTheStandard validates the messages against G2P Connect's
// disburse document. Its DisburseRequest requires "disburemsents" (a typo of the
// published document) beside "disbursements"; each item is validated against the
// items' schema instead, and the response whole.
func TestDisburseMessagesMatchTheStandard(t *testing.T) {
	f := registered(t)
	ctx := context.Background()
	if _, err := f.s.RunCycle(ctx, f.disburser(), payDay); err != nil {
		t.Fatal(err)
	}
	ins, _ := f.s.Store.Instructions(ctx, Cycle(payDay))
	req := DisburseRequest{TransactionID: "T1", Disbursements: []Disbursement{f.s.disbursement(ins[0])}}
	res, _ := f.disburser().Disburse(ctx, req)
	if !dcitest.Present(t) {
		return
	}
	spec := dcitest.Spec(t, "../g2p-connect/disburse_core_api_v1.0.0.yaml")
	doc := dcitest.Load(t, spec)
	item := doc.Components.Schemas["DisburseRequest"].Value.Properties["disbursements"].Value.Items.Value
	b, _ := json.Marshal(req.Disbursements[0])
	if err := dcitest.Check(doc, item, b); err != nil {
		t.Errorf("disbursement %s: %v", b, err)
	}
	b, _ = json.Marshal(res)
	if err := dcitest.Check(doc, doc.Components.Schemas["DisburseResponse"].Value, b); err != nil {
		t.Errorf("response %s: %v", b, err)
	}
	bad, _ := json.Marshal(Disbursement{ReferenceID: "R", PayerFA: "a", PayeeFA: "b", Amount: "1.234"})
	if err := dcitest.Check(doc, item, bad); err == nil {
		t.Errorf("the schema takes amount 1.234: the validation proves nothing")
	}
}

func TestCheckPayDay(t *testing.T) {
	today := date.Date(20261208)
	for _, c := range []struct {
		payDay date.Date
		ok     bool
	}{
		{20261225, true}, {20261201, true}, {20270125, true}, {20270131, true},
		{0, false}, {20261130, false}, {20270201, false}, {21260125, false}, {19990125, false},
	} {
		err := CheckPayDay(c.payDay, today)
		if (err == nil) != c.ok || (err != nil && (fault.KindOf(err) != fault.Invalid || !strings.Contains(err.Error(), "pay_day"))) {
			t.Errorf("CheckPayDay(%s, %s) = %v; want ok %v, or invalid naming pay_day", c.payDay, today, err, c.ok)
		}
	}
	// Through RunCycle too: nothing listed, nothing sent.
	f := registered(t)
	rep, err := f.s.RunCycle(context.Background(), f.disburser(), 21260125)
	if fault.KindOf(err) != fault.Invalid || rep.Listed != 0 || rep.Instructions != 0 {
		t.Errorf("a cycle a century ahead: %+v, %v; want refused, nothing listed", rep, err)
	}
}

// A payment returned for a reason the programme does not know is listed for a case
// worker and never paid again by itself, even once the account is linked anew.
func TestUnknownReturnReason(t *testing.T) {
	f := registered(t)
	ctx := context.Background()
	const maria = "50030100170"
	if _, err := f.s.RunCycle(ctx, f.disburser(), payDay); err != nil {
		t.Fatal(err)
	}
	st, err := f.bank.Statement(ctx, f.s.Programme.Account, payDay)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range st.Lines {
		if strings.HasSuffix(l.Ref, maria) {
			st.Lines[i].Status, st.Lines[i].Reason = bank.Returned, "ZZZZ"
		}
	}
	var b bytes.Buffer
	bank.WriteCSV(&b, st)
	rec, err := f.s.Reconcile(ctx, Cycle(payDay), CSV, &b)
	if err != nil || rec.Returned != 1 {
		t.Fatalf("reconciliation: %+v, %v", rec, err)
	}
	for _, d := range rec.Discrepancies {
		if d.Person == maria && !strings.Contains(d.Action, "case worker") {
			t.Errorf("the ZZZZ return: %+v; want it for a case worker", d)
		}
	}
	f.clock = ptr(payDay.AddDays(1).Time().Add(9 * time.Hour))
	a, _ := bank.DemoAccount(maria)
	if _, err := f.s.link(ctx, Mapping{Person: maria, FA: a, Bank: f.s.BankCode, Name: "Maria Peeters", Linked: *f.clock}); err != nil {
		t.Fatal(err)
	}
	next, err := f.s.RunCycle(ctx, f.disburser(), payDay.AddDays(31))
	if err != nil || next.Arrears != 0 {
		t.Errorf("next cycle: arrears %d, %v; want the ZZZZ return not paid again", next.Arrears, err)
	}
}

// The cycle report's audit records are this run's: the instructions step cites the
// record of the instructions, the disburse step the same (not an earlier run's); a
// second pay day for a prepared cycle is refused; a statement of no cycle is refused.
func TestCycleReportRecords(t *testing.T) {
	f := registered(t)
	ctx := context.Background()
	step := func(rep CycleReport, name string) Step {
		for _, st := range rep.Steps {
			if st.Name == name {
				return st
			}
		}
		t.Fatalf("no step %s in %+v", name, rep.Steps)
		return Step{}
	}
	for run := range 2 {
		rep, err := f.s.RunCycle(ctx, f.disburser(), payDay)
		if err != nil {
			t.Fatal(err)
		}
		ins, dis := step(rep, "instructions"), step(rep, "disburse")
		if len(ins.Seqs) == 0 || len(dis.Seqs) != 1 {
			t.Fatalf("run %d: instructions %v, disburse %v", run, ins.Seqs, dis.Seqs)
		}
		pay := ins.Seqs[len(ins.Seqs)-1]
		if a := f.hub.recorded[pay]; a.Service != "g2p.disburse" || a.Outcome != "instructed" {
			t.Errorf("run %d: the instructions step cites %d, %s %s; want the record of the instructions", run, pay, a.Service, a.Outcome)
		}
		if dis.Seqs[0] != pay {
			t.Errorf("run %d: the disburse step cites %d; want this run's record of the instructions %d", run, dis.Seqs[0], pay)
		}
	}
	if _, err := f.s.RunCycle(ctx, f.disburser(), payDay.AddDays(-3)); fault.KindOf(err) != fault.Conflict || !strings.Contains(err.Error(), "pay_day") {
		t.Errorf("another pay day for the cycle: %v; want a conflict naming pay_day", err)
	}
	st, err := f.bank.Statement(ctx, f.s.Programme.Account, payDay)
	if err != nil {
		t.Fatal(err)
	}
	st.ID = ""
	var noID bytes.Buffer
	bank.WriteCSV(&noID, st)
	if _, err := f.s.Reconcile(ctx, Cycle(payDay), CSV, &noID); fault.KindOf(err) != fault.Invalid || !strings.Contains(err.Error(), "id") {
		t.Errorf("a statement without an id: %v; want refused (it could be taken twice)", err)
	}
	for cycle, kind := range map[string]fault.Kind{"garbage": fault.Invalid, "2026-13": fault.Invalid, "2026-1": fault.Invalid, "2026-11": fault.NotFound} {
		var b bytes.Buffer
		bank.WriteCSV(&b, bank.Statement{ID: "S-" + cycle, Account: f.s.Programme.Account})
		if _, err := f.s.Reconcile(ctx, cycle, CSV, &b); fault.KindOf(err) != kind {
			t.Errorf("Reconcile(%q) = %v; want %v", cycle, err, kind)
		}
	}
}
