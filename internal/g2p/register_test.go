package g2p

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

func TestDecide(t *testing.T) {
	p, err := OldAgeAllowance("SP-MIS", "")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		f      Facts
		ok     bool
		failed string
	}{
		{Facts{Age: 70, Resident: true, Income: 80000}, true, ""},
		{Facts{Age: 64, Resident: true, Income: 80000}, false, "age"},
		{Facts{Age: 70, Resident: false, Income: 80000}, false, "residence"},
		{Facts{Age: 70, Resident: true, Income: 80000, Pension: 100}, false, "pension"},
		{Facts{Age: 70, Resident: true, Income: 120001}, false, "income"},
		{Facts{Age: 70, Resident: true, Income: 120000}, true, ""},
		{Facts{Age: 80, Resident: true, Deceased: true}, false, "alive"},
	}
	for _, c := range cases {
		d, err := p.Decide(c.f)
		if err != nil || d.Eligible != c.ok || strings.Join(d.Failed, ",") != c.failed {
			t.Errorf("Decide(%+v) = %+v, %v; want eligible %v, failed %q", c.f, d, err, c.ok, c.failed)
		}
		if !d.Eligible && (d.Why == "" || d.What == "") {
			t.Errorf("Decide(%+v): a refusal without why or what to do: %+v", c.f, d)
		}
	}
	bad := &Programme{Rule: []Condition{{Name: "broken", Expr: "age +"}, {Name: "number", Expr: "age"}}}
	if err := bad.Compile(); err == nil || !strings.Contains(err.Error(), "rule.broken") {
		t.Errorf("Compile(broken) = %v; want an error naming rule.broken", err)
	}
}

func TestRegistration(t *testing.T) {
	f := newFixture(t)
	r := f.register(t, "50030100170", f.account("50030100170"))
	if r.Status != Registered {
		t.Fatalf("status %s; steps %+v", r.Status, r.Steps)
	}
	var names []string
	for _, st := range r.Steps {
		names = append(names, st.Name)
		if st.Outcome != OK {
			t.Errorf("step %s: %s", st.Name, st.Outcome)
		}
	}
	if got := strings.Join(names, ","); got != "code,code-check,file,civil-register,eligibility,bank-account,list,mapper,confirmation" {
		t.Errorf("steps %s", got)
	}
	ms := f.outbox.To(Mobile("50030100170"))
	if len(ms) != 2 || !strings.Contains(ms[1].Text, "registered") || !strings.Contains(ms[1].Text, f.account("50030100170")[16:]) {
		t.Errorf("messages %+v", ms)
	}
	if strings.Contains(ms[1].Text, f.account("50030100170")[:10]) {
		t.Errorf("the confirmation shows the account: %q", ms[1].Text)
	}
	if _, err := f.s.Store.Beneficiary(context.Background(), "50030100170"); err != nil {
		t.Errorf("not on the list: %v", err)
	}
}

func TestRegistrationRefusals(t *testing.T) {
	f := newFixture(t)
	f.hub.person("40010101130", "Dead", "Person", 19400101, 0, 0)
	f.hub.die("40010101130", 20261101)
	cases := []struct {
		person, account, step, status, why string
	}{
		{"50030200338", f.account("50030200338"), "bank-account", Stopped, "closed"},
		{"65010100576", f.account("65010100576"), "eligibility", Ineligible, "65"},
		{"50010100750", f.account("50010100750"), "eligibility", Ineligible, "pension"},
		{"51010100969", f.account("51010100969"), "bank-account", Stopped, "no such account"},
		{"50030100170", f.account("50010100750"), "bank-account", Stopped, "holder is not the applicant"},
		{"40010101130", f.account("40010101130"), "civil-register", Stopped, "death"},
		{"45010101336", f.account("45010101336"), "civil-register", Stopped, "no person"},
	}
	for _, c := range cases {
		r := f.register(t, c.person, c.account)
		last := r.Steps[len(r.Steps)-1]
		if r.Status != c.status || last.Name != c.step || last.Outcome != Refused || !strings.Contains(last.Why, c.why) || last.What == "" {
			t.Errorf("%s with %s: %s, last step %+v; want %s at %s, why %q", c.person, c.account, r.Status, last, c.status, c.step, c.why)
		}
	}
}

func TestApplicationCheck(t *testing.T) {
	f := newFixture(t)
	bad := []struct {
		a     Application
		field string
	}{
		{Application{Mobile: "+999470123456", Account: f.account("50030100170")}, "person"},
		{Application{Name: "Maria", BirthDate: 19500301, Mobile: "+999470123456", Account: f.account("50030100170")}, "name"},
		{Application{Person: "50030100171", Mobile: "+999470123456", Account: f.account("50030100170")}, "person"},
		{Application{Person: "50030100170", Mobile: "0470123456", Account: f.account("50030100170")}, "mobile"},
		{Application{Person: "50030100170", Mobile: "+999470123456", Account: "XC00 0000"}, "account"},
	}
	for _, c := range bad {
		_, err := f.s.Start(context.Background(), c.a)
		var fe *fault.Error
		if err == nil || !asFault(err, &fe) || fe.Field != c.field {
			t.Errorf("Start(%+v) = %v; want an error on %s", c.a, err, c.field)
		}
	}
	// The name and birth date given are checked against the register.
	r, _ := f.s.Start(context.Background(), Application{Person: "50030100170", Name: "Pieter Janssens", Mobile: "+999470123456", Account: f.account("50030100170")})
	r, _ = f.s.Confirm(context.Background(), r.ID, f.code(t, "+999470123456"))
	if last := r.Steps[len(r.Steps)-1]; r.Status != Stopped || !strings.Contains(last.Why, "name") {
		t.Errorf("another name: %s %+v", r.Status, last)
	}
}

func TestCodes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r, err := f.s.Start(ctx, Application{Person: "50030100170", Mobile: "+999470123456", Account: f.account("50030100170")})
	if err != nil {
		t.Fatal(err)
	}
	good := f.code(t, "+999470123456")
	wrong := "000000"
	if good == wrong {
		wrong = "111111"
	}
	for i := 1; i < MaxTries; i++ {
		r, err = f.s.Confirm(ctx, r.ID, wrong)
		if err != nil || r.Status != CodeSent || !strings.Contains(r.Steps[len(r.Steps)-1].What, "tries left") {
			t.Fatalf("wrong code %d: %s %v %+v", i, r.Status, err, r.Steps[len(r.Steps)-1])
		}
	}
	r, _ = f.s.Confirm(ctx, r.ID, wrong)
	if r.Status != Locked {
		t.Fatalf("after %d wrong codes: %s", MaxTries, r.Status)
	}
	// Locked: even the right code is refused, and no new code is sent.
	r, _ = f.s.Confirm(ctx, r.ID, good)
	if r.Status != Locked || !strings.Contains(r.Steps[len(r.Steps)-1].What, "wait") {
		t.Fatalf("right code while locked: %s %+v", r.Status, r.Steps[len(r.Steps)-1])
	}
	if _, err := f.s.Resend(ctx, r.ID); fault.KindOf(err) != fault.TooMany {
		t.Fatalf("Resend while locked = %v; want too many", err)
	}
	*f.clock = f.clock.Add(LockWait + time.Second)
	if _, err := f.s.Resend(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	// The old code no longer works; an expired new one neither.
	if r, _ = f.s.Confirm(ctx, r.ID, good); r.Status == Registered && good != f.code(t, "+999470123456") {
		t.Fatal("the replaced code was taken")
	}
	*f.clock = f.clock.Add(CodeLifetime + time.Second)
	r, _ = f.s.Confirm(ctx, r.ID, f.code(t, "+999470123456"))
	if r.Status == Registered || !strings.Contains(r.Steps[len(r.Steps)-1].Why, "expired") {
		t.Fatalf("expired code: %s %+v", r.Status, r.Steps[len(r.Steps)-1])
	}
	f.s.Resend(ctx, r.ID)
	fresh := f.code(t, "+999470123456")
	r, _ = f.s.Confirm(ctx, r.ID, fresh)
	if r.Status != Registered {
		t.Fatalf("fresh code: %s %+v", r.Status, r.Steps)
	}
	// A used code cannot be used again.
	if _, err := f.s.Confirm(ctx, r.ID, fresh); fault.KindOf(err) != fault.Conflict {
		t.Errorf("Confirm after registration = %v; want conflict", err)
	}
}

func asFault(err error, fe **fault.Error) bool {
	e, ok := err.(*fault.Error)
	*fe = e
	return ok
}

// TestCodesPerNumber: starting again and again does not flood a number with codes.
func TestCodesPerNumber(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := Application{Person: "50030100170", Mobile: "+999470123456", Account: f.account("50030100170")}
	for i := range MaxCodes {
		if _, err := f.s.Start(ctx, a); err != nil {
			t.Fatalf("code %d: %v", i+1, err)
		}
	}
	if _, err := f.s.Start(ctx, a); fault.KindOf(err) != fault.TooMany {
		t.Fatalf("code %d = %v; want too many", MaxCodes+1, err)
	}
	if n := len(f.outbox.To("+999470123456")); n != MaxCodes {
		t.Errorf("%d SMS sent; want %d", n, MaxCodes)
	}
	*f.clock = f.clock.Add(CodeWindow + time.Second)
	if _, err := f.s.Start(ctx, a); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

// Two pending registrations of one person confirmed at once: one registers, with its
// confirmation message; the other is already_registered, nothing done again.
func TestRegistrationRace(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const maria = "50030100170"
	var regs [2]Registration
	var codes [2]string
	for i := range regs {
		r, err := f.s.Start(ctx, Application{Person: maria, Mobile: Mobile(maria), Account: f.account(maria)})
		if err != nil {
			t.Fatal(err)
		}
		regs[i], codes[i] = r, f.code(t, Mobile(maria))
	}
	sent := len(f.outbox.To(Mobile(maria)))
	f.hub.meet = &sync.WaitGroup{}
	f.hub.meet.Add(2)
	var wg sync.WaitGroup
	var got [2]Registration
	for i := range regs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.s.Confirm(ctx, regs[i].ID, codes[i])
			if err != nil {
				t.Error(err)
			}
			got[i] = r
		}()
	}
	wg.Wait()
	statuses := []string{got[0].Status, got[1].Status}
	slices.Sort(statuses)
	if !slices.Equal(statuses, []string{AlreadyRegistered, Registered}) {
		t.Errorf("two registrations of one person at once: %v; want one registered, one %s", statuses, AlreadyRegistered)
	}
	if n := len(f.outbox.To(Mobile(maria))) - sent; n != 1 {
		t.Errorf("%d confirmation messages; want 1", n)
	}
}

// A person number with a guessed name or birth date gets one answer for a mismatch of
// either (no oracle of which is the register's), and the tries count with the searches
// by name.
func TestNameOracle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const maria = "50030100170" // Maria Peeters, born 1950-03-01
	refusal := func(a Application) Step {
		t.Helper()
		a.Person, a.Mobile, a.Account, a.Actor = maria, Mobile(maria), f.account(maria), "sw-oracle"
		r, err := f.s.Start(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if r, err = f.s.Confirm(ctx, r.ID, f.code(t, Mobile(maria))); err != nil || r.Status != Stopped {
			t.Fatalf("%+v: %s, %v; want stopped", a, r.Status, err)
		}
		*f.clock = f.clock.Add(CodeWindow / MaxCodes) // the mobile's code limit is not the point here
		last := r.Steps[len(r.Steps)-1]
		last.At, last.Duration = time.Time{}, 0
		return last
	}
	wrongName := refusal(Application{Name: "Pieter Janssens", BirthDate: 19500301})
	wrongBirth := refusal(Application{Name: "Maria Peeters", BirthDate: 19500302})
	if wrongName.Why != wrongBirth.Why || wrongName.What != wrongBirth.What {
		t.Errorf("a wrong name answers %q / %q, a wrong birth date %q / %q; want one answer", wrongName.Why, wrongName.What, wrongBirth.Why, wrongBirth.What)
	}
	// The tries count in the by-name limit of the social worker.
	g := newFixture(t)
	var err error
	for i := 0; i <= MaxSearches && err == nil; i++ {
		_, err = g.s.Start(ctx, Application{Person: maria, Name: "Guess Number" + strings.Repeat("a", i%5), BirthDate: 19500301, Mobile: "+99947" + fmt.Sprintf("%07d", i), Account: g.account(maria), Actor: "sw-guess"})
	}
	if fault.KindOf(err) != fault.TooMany {
		t.Errorf("%d tries with a person number and a name: %v; want too many, counted with the searches by name", MaxSearches+1, err)
	}
}

// In a file of applicants too, a person number given with a name counts with the
// searches by name.
func TestNameOracleBatch(t *testing.T) {
	f := newFixture(t)
	var apps []Application
	for i := range MaxSearches + 1 {
		p, err := ident.MakePerson(1950, 1, 1, 2*i+1, ident.Register)
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, Application{Person: p.String(), Name: "Guess Name", Mobile: Mobile(p.String()), Account: f.account(p.String())})
	}
	res, err := f.s.RegisterBatch(context.Background(), apps, "sw-batch", 4)
	if err != nil {
		t.Fatal(err)
	}
	if last := res[len(res)-1]; !strings.Contains(last.Error, "searches") {
		t.Errorf("the %dth line with a person number and a name: %+v; want refused, counted with the searches by name", MaxSearches+1, last)
	}
}
