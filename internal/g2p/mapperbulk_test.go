package g2p

import (
	"context"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/bank"
	"github.com/crossroads-hub/crossroads/internal/iban"
)

// TestMapInBulk: link, update and unlink a message of items, each with its verdict: a
// person not on the list, an account the bank refuses, a link over a link, an update of
// nothing, never stopping the other items; every refusal recorded.
func TestMapInBulk(t *testing.T) {
	f := registered(t)
	ctx := context.Background()
	const maria, anna, ella, young = "50030100170", "51010100969", "45010101336", "65010100576"
	// A new account for Maria, opened in her name.
	fresh, _ := iban.Make("XC", bank.BankCode+"500301001709")
	f.bank.Store.PutAccounts(ctx, []bank.Account{{IBAN: fresh, Holder: "Maria Peeters", Person: maria, BirthDate: 19500301}})
	if _, err := f.s.Unlink(ctx, anna); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		op     string
		items  []MapperItem
		done   []bool
		reason []string
	}{
		{OpUpdate, []MapperItem{{maria, fresh}, {young, fresh}, {ella, fresh}, {anna, iban.IBAN(f.account(anna))}},
			[]bool{true, false, false, false}, []string{"", "rjct.id.invalid", "rjct.fa.invalid", "rjct.id.invalid"}},
		{OpLink, []MapperItem{{anna, iban.IBAN(f.account(anna))}, {maria, fresh}},
			[]bool{true, false}, []string{"", "rjct.id.invalid"}},
		{OpUnlink, []MapperItem{{ella, ""}, {young, ""}, {ella, ""}},
			[]bool{true, false, false}, []string{"", "rjct.id.invalid", "rjct.id.invalid"}},
	}
	for _, c := range cases {
		denied := 0
		for _, a := range f.hub.actions {
			if a.Deny {
				denied++
			}
		}
		res, err := f.s.Map(ctx, c.op, c.items)
		if err != nil || len(res) != len(c.items) {
			t.Fatalf("%s: %+v, %v", c.op, res, err)
		}
		for i, r := range res {
			if r.Done != c.done[i] || r.Reason != c.reason[i] || (!r.Done && r.Why == "") {
				t.Errorf("%s item %d (%s): %+v; want done %v, reason %q", c.op, i, c.items[i].Person, r, c.done[i], c.reason[i])
			}
		}
		after := 0
		for _, a := range f.hub.actions {
			if a.Deny {
				after++
			}
		}
		if after == denied && c.op != OpLink { // the link case names nobody off the list
			t.Errorf("%s: the refusal of a person not on the list is not recorded", c.op)
		}
	}
	ms, _ := f.s.Store.Resolve(ctx, []string{maria, anna, ella})
	if ms[maria].FA != fresh || ms[anna].FA != iban.IBAN(f.account(anna)) || ms[ella].FA != "" {
		t.Errorf("mappings after: %+v", ms)
	}
}
