package g2p

import (
	"context"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// TestRegisterAgain: the same applicant registered again is told "already registered";
// no code, no file, no letter, whether alone or in a batch (outsider finding).
func TestRegisterAgain(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const p = "50030100170"
	if r := f.register(t, p, f.account(p)); r.Status != Registered {
		t.Fatalf("first: %s", r.Status)
	}
	sms := len(f.outbox.To(Mobile(p)))
	r, err := f.s.Start(ctx, Application{Person: p, Mobile: Mobile(p), Account: f.account(p)})
	if err != nil || r.Status != AlreadyRegistered || r.ID != "" {
		t.Fatalf("Start again = %+v, %v; want %s and no registration", r, err, AlreadyRegistered)
	}
	res, err := f.s.RegisterBatch(ctx, []Application{{Person: p, Mobile: Mobile(p), Account: f.account(p)}}, "sw-1", 1)
	if err != nil || res[0].Registration == nil || res[0].Registration.Status != AlreadyRegistered {
		t.Fatalf("batch again = %+v, %v", res, err)
	}
	if n := len(f.outbox.To(Mobile(p))); n != sms {
		t.Errorf("%d SMS after registering again; want %d (no code, no letter)", n, sms)
	}
	// The same person twice in one batch: the second line refused, naming the first.
	const q = "51010100969"
	res, _ = f.s.RegisterBatch(ctx, []Application{{Person: q, Mobile: Mobile(q), Account: f.account(p)}, {Person: q, Mobile: Mobile(q), Account: f.account(p)}}, "sw-1", 1)
	if res[1].Registration != nil || res[1].Error == "" {
		t.Errorf("the same person twice in a batch: %+v", res[1])
	}
}

// TestRefusedApplicantsFileClosed: an applicant refused (ineligible or stopped) keeps no
// file of the programme open in the person directory; a registered one keeps it.
func TestRefusedApplicantsFileClosed(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		person string
		open   bool
	}{{"50030100170", true}, {"65010100576", false}, {"50030200338", false}} {
		f.register(t, c.person, f.account(c.person))
		if err := f.s.CloseRefused(context.Background()); err != nil {
			t.Fatal(err)
		}
		if f.hub.files[c.person] != c.open {
			t.Errorf("%s: file open %v; want %v", c.person, f.hub.files[c.person], c.open)
		}
	}
}

// TestCodeRefusal: a refused code is an error of its kind for the front-ends (a 403,
// or a 429 once locked), not a success carrying the refusal.
func TestCodeRefusal(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r, err := f.s.Start(ctx, Application{Person: "50030100170", Mobile: "+999470123456", Account: f.account("50030100170")})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CodeRefusal(); err != nil {
		t.Errorf("no code entered yet: %v", err)
	}
	wrong := "000000"
	if wrong == f.code(t, "+999470123456") {
		wrong = "111111"
	}
	for i := 1; i <= MaxTries; i++ {
		r, _ = f.s.Confirm(ctx, r.ID, wrong)
		want := fault.Forbidden
		if i == MaxTries {
			want = fault.TooMany
		}
		if err := r.CodeRefusal(); fault.KindOf(err) != want {
			t.Errorf("wrong code %d: CodeRefusal() = %v; want kind %v", i, err, want)
		}
	}
}

// TestCloseDoesNotRaceARegistration: the closing of a refused registration's file runs
// while a second registration of the same person is being checked; the second ends on
// its own outcome (ineligible), not stopped for want of a file (outsider finding: 5 of
// 98 tries).
func TestCloseDoesNotRaceARegistration(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const p = "65010100576" // ineligible
	var ids [2]string
	var codes [2]string
	for i := range ids {
		r, err := f.s.Start(ctx, Application{Person: p, Mobile: Mobile(p), Account: f.account(p)})
		if err != nil {
			t.Fatal(err)
		}
		ids[i], codes[i] = r.ID, f.code(t, Mobile(p))
	}
	if r, err := f.s.Confirm(ctx, ids[0], codes[0]); err != nil || r.Status != Ineligible {
		t.Fatalf("first: %s, %v; want %s", r.Status, err, Ineligible)
	}
	var closeErr error
	f.hub.onAsk = func() { closeErr = f.s.CloseRefused(ctx) } // the closing, mid-checks
	r, err := f.s.Confirm(ctx, ids[1], codes[1])
	if err != nil || r.Status != Ineligible || closeErr != nil {
		t.Fatalf("second: %s, %v (close: %v); want %s: %+v", r.Status, err, closeErr, Ineligible, r.Steps[len(r.Steps)-1])
	}
	// Once the checks are over, the refused applicant's file is closed.
	if err := f.s.CloseRefused(ctx); err != nil {
		t.Fatal(err)
	}
	if f.hub.files[p] {
		t.Errorf("the refused applicant's file is still open")
	}
}
