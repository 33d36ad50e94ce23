package bank

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/iban"
)

const today = date.Date(20261207)

func demoBank(t testing.TB) (*Demo, iban.IBAN, iban.IBAN) {
	t.Helper()
	ctx := context.Background()
	open, _ := DemoAccount("50010100013")
	closed, _ := DemoAccount("50010100021")
	d := &Demo{Store: NewMemStore(), Now: func() date.Date { return today }}
	err := d.Store.PutAccounts(ctx, []Account{
		{IBAN: open, Holder: "Maria Peeters", Person: "50010100013", BirthDate: 19500101},
		{IBAN: closed, Holder: "Jan Claes", Person: "50010100021", BirthDate: 19500102, Closed: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d, open, closed
}

func TestVerify(t *testing.T) {
	d, open, closed := demoBank(t)
	ctx := context.Background()
	nobody, _ := DemoAccount("50010100039")
	cases := []struct {
		q    VerifyRequest
		want Verification
	}{
		{VerifyRequest{Account: open, Name: "PEETERS Maria"}, Verification{Exists: true, Active: true, HolderMatches: true, Score: 100}},
		{VerifyRequest{Account: open, Name: "Maria Peeters", BirthDate: 19500101}, Verification{Exists: true, Active: true, HolderMatches: true, Score: 100}},
		{VerifyRequest{Account: open, Name: "Maria Peeters", BirthDate: 19600101}, Verification{Exists: true, Active: true, Score: 100}},
		{VerifyRequest{Account: closed, Name: "Jan Claes"}, Verification{Exists: true, HolderMatches: true, Score: 100}},
		{VerifyRequest{Account: nobody, Name: "Jan Claes"}, Verification{}},
	}
	for _, c := range cases {
		got, err := d.Verify(ctx, c.q)
		if err != nil || got != c.want {
			t.Errorf("Verify(%+v) = %+v, %v; want %+v", c.q, got, err, c.want)
		}
	}
	v, _ := d.Verify(ctx, VerifyRequest{Account: open, Name: "Pieter Janssens"})
	if v.HolderMatches || v.Score >= MatchThreshold {
		t.Errorf("another person's name matches: %+v", v)
	}
	if _, err := d.Verify(ctx, VerifyRequest{Account: "XC00BAD", Name: "x"}); err == nil || !strings.Contains(err.Error(), "account") {
		t.Errorf("Verify(bad IBAN) = %v; want an error naming account", err)
	}
}

// TestVerifyNeverReturnsAccountData is the attack test of the verification: whatever is
// asked, the answer carries no holder name, person number, birth date or balance.
func TestVerifyNeverReturnsAccountData(t *testing.T) {
	d, open, _ := demoBank(t)
	for _, name := range []string{"Maria Peeters", "M", "Maria Peetrs", "*", "%"} {
		v, err := d.Verify(context.Background(), VerifyRequest{Account: open, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v)
		for _, secret := range []string{"Peeters", "Maria", "50010100013", "1950"} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("Verify(%q) = %s: holds %q", name, b, secret)
			}
		}
	}
}

func TestPayOnce(t *testing.T) {
	d, open, closed := demoBank(t)
	ctx := context.Background()
	payer := ProgrammeAccount()
	nobody, _ := DemoAccount("50010100039")
	ins := []Instruction{
		{ID: "OAA-202612-1", Payer: payer, Payee: open, Amount: 25000, Currency: "XCD", Day: today},
		{ID: "OAA-202612-2", Payer: payer, Payee: closed, Amount: 25000, Currency: "XCD", Day: today},
		{ID: "OAA-202612-3", Payer: payer, Payee: nobody, Amount: 25000, Currency: "XCD", Day: today},
		{ID: "", Payer: payer, Payee: open, Amount: 25000, Currency: "XCD", Day: today},
		{ID: "OAA-202612-5", Payer: payer, Payee: open, Amount: -1, Currency: "XCD", Day: today},
	}
	rs, err := d.Pay(ctx, ins)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{Accepted, Accepted, Accepted, Rejected, Rejected}
	for i, r := range rs {
		if r.Status != want[i] {
			t.Errorf("Pay[%d] = %+v; want %s", i, r, want[i])
		}
	}
	// The same batch again pays nothing more.
	again, err := d.Pay(ctx, ins[:3])
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again {
		if r.Status != Duplicate {
			t.Errorf("Pay again [%d] = %+v; want duplicate", i, r)
		}
	}
	// A replay of an id for another payment is refused.
	replay := ins[0]
	replay.Amount = 99999
	if rs, _ := d.Pay(ctx, []Instruction{replay}); rs[0].Status != Rejected {
		t.Errorf("replayed id with another amount = %+v; want rejected", rs[0])
	}
	st, err := d.Statement(ctx, payer, today)
	if err != nil {
		t.Fatal(err)
	}
	var booked, returned int
	for _, l := range st.Lines {
		switch l.Status {
		case Booked:
			booked++
		case Returned:
			returned++
		}
	}
	if booked != 3 || returned != 2 {
		t.Errorf("statement: %d booked, %d returned; want 3, 2: %+v", booked, returned, st.Lines)
	}
}
