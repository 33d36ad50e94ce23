// Package banktest is the contract suite every bank.Store must pass, driven through a
// bank.Demo as the demo bank uses it.
package banktest

import (
	"context"
	"fmt"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/bank"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/iban"
)

// Run runs the suite; open returns a new, empty store.
func Run(t *testing.T, open func(t *testing.T) bank.Store) {
	ctx := context.Background()
	day := date.Date(20261207)
	t.Run("accounts", func(t *testing.T) {
		s := open(t)
		var as []bank.Account
		var ibans []iban.IBAN
		for i := range 1000 {
			p := fmt.Sprintf("500101%05d", i)
			a, err := bank.DemoAccount(p)
			if err != nil {
				t.Fatal(err)
			}
			as = append(as, bank.Account{IBAN: a, Holder: "Holder " + p, Person: p, BirthDate: 19500101, Closed: i%10 == 0})
			ibans = append(ibans, a)
		}
		if err := s.PutAccounts(ctx, as); err != nil {
			t.Fatal(err)
		}
		missing, _ := bank.DemoAccount("59999999999")
		got, err := s.Accounts(ctx, append(ibans, missing))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1000 {
			t.Fatalf("Accounts: %d found; want 1000", len(got))
		}
		if got[as[10].IBAN] != as[10] {
			t.Errorf("Accounts[%s] = %+v; want %+v", as[10].IBAN, got[as[10].IBAN], as[10])
		}
		as[1].Closed = true // an update
		if err := s.PutAccounts(ctx, as[1:2]); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Accounts(ctx, ibans[1:2]); !got[as[1].IBAN].Closed {
			t.Errorf("an account closed since is %+v", got[as[1].IBAN])
		}
	})
	t.Run("post once", func(t *testing.T) {
		s := open(t)
		d := &bank.Demo{Store: s, Now: func() date.Date { return day }}
		a, _ := bank.DemoAccount("50010100013")
		if err := s.PutAccounts(ctx, []bank.Account{{IBAN: a, Holder: "A B", Person: "50010100013", BirthDate: 19500101}}); err != nil {
			t.Fatal(err)
		}
		payer := bank.ProgrammeAccount()
		var ins []bank.Instruction
		for i := range 500 {
			ins = append(ins, bank.Instruction{ID: fmt.Sprintf("T-%d", i), Batch: "B1", Payer: payer, Payee: a, Amount: 100, Currency: "XCD", Day: day, Remit: "r"})
		}
		for round := range 2 {
			rs, err := d.Pay(ctx, ins)
			if err != nil {
				t.Fatal(err)
			}
			want := bank.Accepted
			if round == 1 {
				want = bank.Duplicate
			}
			for i, r := range rs {
				if r.Status != want {
					t.Fatalf("round %d: Pay[%d] = %+v; want %s", round, i, r, want)
				}
			}
		}
		ps, err := s.Postings(ctx, payer, day)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 500 || ps[0].ID != "T-0" || ps[499].ID != "T-499" {
			t.Fatalf("Postings: %d, want 500 in order received", len(ps))
		}
		if other, _ := s.Postings(ctx, payer, day.AddDays(1)); len(other) != 0 {
			t.Errorf("Postings of another day: %d", len(other))
		}
	})
}
