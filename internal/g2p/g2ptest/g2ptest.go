// Package g2ptest is the contract suite every g2p.Store must pass.
package g2ptest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/g2p"
	"github.com/crossroads-hub/crossroads/internal/iban"
)

// Run runs the suite; open returns a new, empty store.
func Run(t *testing.T, open func(t *testing.T) g2p.Store) {
	ctx := context.Background()
	t.Run("registrations", func(t *testing.T) {
		s := open(t)
		at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
		r := g2p.Registration{ID: "reg-1", Programme: "OAA", Person: "50030100170", Mobile: "+999470123456", Account: "XC680101500301001700",
			Actor: "applicant", Status: g2p.CodeSent, Name: "Maria", BirthDate: 19500301, Created: at,
			Steps: []g2p.Step{{Name: "code", Outcome: g2p.OK, At: at, Duration: time.Millisecond, Seqs: []int64{3}}}}
		r.Code.Hash[0], r.Code.Expires, r.Code.Tries = 7, at.Add(time.Minute), 2
		if err := s.PutRegistration(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, err := s.Registration(ctx, "reg-1")
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Fatalf("Registration = %+v, %v;\nwant %+v", got, err, r)
		}
		r.Status = g2p.Registered
		s.PutRegistration(ctx, r)
		if got, _ := s.Registration(ctx, "reg-1"); got.Status != g2p.Registered {
			t.Errorf("updated status %s", got.Status)
		}
		if _, err := s.Registration(ctx, "reg-2"); fault.KindOf(err) != fault.NotFound {
			t.Errorf("missing registration: %v", err)
		}
	})
	t.Run("beneficiaries", func(t *testing.T) {
		s := open(t)
		for i := range 10 {
			b := g2p.Beneficiary{Person: fmt.Sprintf("5003010%04d", 9-i), Name: "B", BirthDate: 19500301, From: date.Date(20261201 + i), Status: g2p.Active}
			if err := s.PutBeneficiary(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		list, err := s.Beneficiaries(ctx, 20261205)
		if err != nil || len(list) != 5 || list[0].Person > list[1].Person {
			t.Fatalf("Beneficiaries = %d, %v (in person order)", len(list), err)
		}
		if err := s.EndRights(ctx, []string{list[0].Person, "none"}, 20261210, "deceased"); err != nil {
			t.Fatal(err)
		}
		b, err := s.Beneficiary(ctx, list[0].Person)
		if err != nil || b.Status != g2p.Ended || b.Ended != 20261210 || b.EndReason != "deceased" {
			t.Errorf("ended: %+v, %v", b, err)
		}
		if l, _ := s.Beneficiaries(ctx, 20261231); len(l) != 9 {
			t.Errorf("after ending one: %d", len(l))
		}
		if _, err := s.Beneficiary(ctx, "none"); fault.KindOf(err) != fault.NotFound {
			t.Errorf("missing beneficiary: %v", err)
		}
		// AddBeneficiary: not over an open right; over an ended one, yes.
		again := g2p.Beneficiary{Person: list[1].Person, Name: "Again", BirthDate: 19500301, From: 20261220, Status: g2p.Active}
		if ok, err := s.AddBeneficiary(ctx, again); ok || err != nil {
			t.Errorf("AddBeneficiary over an open right = %v, %v; want false", ok, err)
		}
		if b, _ := s.Beneficiary(ctx, list[1].Person); b.Name != "B" {
			t.Errorf("AddBeneficiary over an open right changed it: %+v", b)
		}
		again.Person = list[0].Person
		if ok, err := s.AddBeneficiary(ctx, again); !ok || err != nil {
			t.Errorf("AddBeneficiary over an ended right = %v, %v; want true", ok, err)
		}
		again.Person = "50030200000"
		if ok, err := s.AddBeneficiary(ctx, again); !ok || err != nil {
			t.Errorf("AddBeneficiary of a new person = %v, %v; want true", ok, err)
		}
		if b, _ := s.Beneficiary(ctx, again.Person); b != again {
			t.Errorf("AddBeneficiary kept %+v; want %+v", b, again)
		}
	})
	t.Run("import", func(t *testing.T) {
		s := open(t)
		var bs []g2p.Beneficiary
		var ms []g2p.Mapping
		for i := range 2000 {
			p := fmt.Sprintf("5%010d", i)
			bs = append(bs, g2p.Beneficiary{Person: p, Name: "B", From: 20261201, Status: g2p.Active})
			ms = append(ms, g2p.Mapping{Person: p, FA: "XC680101500301001700", Bank: "demo-bank", Linked: time.Unix(0, 0).UTC()})
		}
		if err := s.Import(ctx, bs, ms); err != nil {
			t.Fatal(err)
		}
		if l, _ := s.Beneficiaries(ctx, 20261201); len(l) != 2000 {
			t.Errorf("imported %d beneficiaries", len(l))
		}
		if m, _ := s.Resolve(ctx, []string{bs[1999].Person}); m[bs[1999].Person] != ms[1999] {
			t.Errorf("imported mapping %+v", m)
		}
	})
	t.Run("mapper", func(t *testing.T) {
		s := open(t)
		m := g2p.Mapping{Person: "50030100170", FA: "XC680101500301001700", Bank: "demo-bank", Name: "Maria", Linked: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
		if err := s.Link(ctx, m); err != nil {
			t.Fatal(err)
		}
		ms, err := s.Resolve(ctx, []string{"50030100170", "50030200338"})
		if err != nil || len(ms) != 1 || ms["50030100170"] != m {
			t.Fatalf("Resolve = %+v, %v", ms, err)
		}
		m.FA = iban.IBAN("XC450101500301001700")
		s.Link(ctx, m)
		if ms, _ := s.Resolve(ctx, []string{"50030100170"}); ms["50030100170"].FA != m.FA {
			t.Errorf("update: %+v", ms)
		}
		if err := s.Unlink(ctx, "50030100170"); err != nil {
			t.Fatal(err)
		}
		if err := s.Unlink(ctx, "50030100170"); fault.KindOf(err) != fault.NotFound {
			t.Errorf("unlink twice: %v", err)
		}
		many := make([]string, 1000)
		for i := range many {
			many[i] = fmt.Sprintf("5%010d", i)
			s.Link(ctx, g2p.Mapping{Person: many[i], FA: m.FA})
		}
		if ms, _ := s.Resolve(ctx, many); len(ms) != 1000 {
			t.Errorf("Resolve of 1,000: %d", len(ms))
		}
	})
	t.Run("instructions", func(t *testing.T) {
		s := open(t)
		var ins []g2p.Instr
		for i := range 5 {
			ins = append(ins, g2p.Instr{ID: fmt.Sprintf("OAA-2026-12-%d", 4-i), Cycle: "2026-12", Person: fmt.Sprint(i), Payee: "XC680101500301001700",
				Amount: 25000, Currency: "XCD", Day: 20261225, Status: g2p.Sent})
		}
		if n, err := s.AddInstructions(ctx, ins); n != 5 || err != nil {
			t.Fatalf("AddInstructions = %d, %v", n, err)
		}
		if n, err := s.AddInstructions(ctx, ins); n != 0 || err != nil {
			t.Fatalf("AddInstructions again = %d, %v", n, err)
		}
		got, err := s.Instructions(ctx, "2026-12")
		if err != nil || !reflect.DeepEqual(got, ins) {
			t.Fatalf("Instructions = %+v, %v (in the order added)", got, err)
		}
		got[1].Status, got[1].Reason, got[1].Seq = g2p.Returned, "AC04", 9
		if err := s.SetInstructions(ctx, got[1:2]); err != nil {
			t.Fatal(err)
		}
		bad := got[2]
		bad.ID, bad.Status = "nope", g2p.Paid
		if err := s.SetInstructions(ctx, []g2p.Instr{got[2], bad}); fault.KindOf(err) != fault.NotFound {
			t.Errorf("SetInstructions with an unknown id: %v", err)
		}
		ret, err := s.Returned(ctx)
		if err != nil || len(ret) != 1 || ret[0] != got[1] {
			t.Fatalf("Returned = %+v, %v", ret, err)
		}
		again := g2p.Instr{ID: got[1].ID + "R", Cycle: "2027-01", Person: got[1].Person, Payee: got[1].Payee, Amount: 25000, Currency: "XCD", Day: 20270125, Status: g2p.Sent, Arrears: got[1].ID}
		s.AddInstructions(ctx, []g2p.Instr{again})
		if ret, _ := s.Returned(ctx); len(ret) != 0 {
			t.Errorf("a returned payment paid again is still listed: %+v", ret)
		}
	})
	t.Run("statements", func(t *testing.T) {
		s := open(t)
		in := g2p.Instr{ID: "OAA-2026-12-1", Cycle: "2026-12", Person: "1", Payee: "XC680101500301001700", Amount: 25000, Currency: "XCD", Day: 20261225, Status: g2p.Sent}
		if _, err := s.AddInstructions(ctx, []g2p.Instr{in}); err != nil {
			t.Fatal(err)
		}
		if taken, err := s.StatementTaken(ctx, "id:S1"); taken || err != nil {
			t.Fatalf("StatementTaken before = %v, %v", taken, err)
		}
		// A statement naming an unknown instruction is not taken: all or nothing.
		if ok, err := s.TakeStatement(ctx, "id:S1", "2026-12", []g2p.Instr{{ID: "nope", Status: g2p.Paid}}); ok || fault.KindOf(err) != fault.NotFound {
			t.Errorf("TakeStatement with an unknown id = %v, %v", ok, err)
		}
		if taken, _ := s.StatementTaken(ctx, "id:S1"); taken {
			t.Errorf("a statement refused is kept as taken")
		}
		in.Status = g2p.Paid
		if ok, err := s.TakeStatement(ctx, "id:S1", "2026-12", []g2p.Instr{in}); !ok || err != nil {
			t.Fatalf("TakeStatement = %v, %v", ok, err)
		}
		in.Status = g2p.Missing
		if ok, err := s.TakeStatement(ctx, "id:S1", "2026-12", []g2p.Instr{in}); ok || err != nil {
			t.Errorf("TakeStatement again = %v, %v; want false, nothing changed", ok, err)
		}
		if got, _ := s.Instructions(ctx, "2026-12"); len(got) != 1 || got[0].Status != g2p.Paid {
			t.Errorf("after the statement taken twice: %+v; want paid", got)
		}
		if taken, err := s.StatementTaken(ctx, "id:S1"); !taken || err != nil {
			t.Errorf("StatementTaken after = %v, %v", taken, err)
		}
	})
}
