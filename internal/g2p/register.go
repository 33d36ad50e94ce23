package g2p

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/bank"
	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/iban"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

// Application is what an applicant, or a social worker for them, gives.
type Application struct {
	Person    string    `json:"person,omitempty"` // person number
	Name      string    `json:"name,omitempty"`   // full name, checked against the register
	BirthDate date.Date `json:"birth_date,omitempty"`
	Mobile    string    `json:"mobile"`
	Account   string    `json:"account"` // IBAN
	Actor     string    `json:"actor,omitempty"`
}

// errStopped is a refused step: its Step says why and what to do.
var errStopped = errors.New("stopped")

// errAlready ends the checks of a registration that found the person listed meanwhile.
var errAlready = errors.New("already registered")

// Check validates an application on its own, naming the field.
func (a *Application) Check() error {
	if a.Person == "" {
		// Identified later through the hub, by name and birth date (identify).
		if a.Name == "" || a.BirthDate.IsZero() {
			return fault.Invalidf("person", "give the person number, or the full name, birth date and mobile number")
		}
		if _, err := ParseName(a.Name); err != nil {
			return err
		}
	} else {
		p, err := ident.ParsePerson(a.Person)
		if err != nil {
			return fault.Invalidf("person", "%v", err)
		}
		a.Person = p.String()
	}
	m := strings.NewReplacer(" ", "", "-", "").Replace(a.Mobile)
	if len(m) < 9 || len(m) > 16 || m[0] != '+' || strings.Trim(m[1:], "0123456789") != "" {
		return fault.Invalidf("mobile", "a mobile number in international form (+ and 8 to 15 digits)")
	}
	a.Mobile = m
	acct, err := iban.Parse(a.Account)
	if err != nil {
		return fault.Invalidf("account", "%v", err)
	}
	a.Account = string(acct)
	if len(a.Name) > 200 {
		return fault.Invalidf("name", "at most 200 characters")
	}
	if a.Actor == "" {
		a.Actor = "applicant"
	}
	return nil
}

// Start opens a registration and sends a one-time code to the mobile number.
func (s *Service) Start(ctx context.Context, a Application) (Registration, error) {
	if err := a.Check(); err != nil {
		return Registration{}, err
	}
	if a.Person == "" {
		if err := s.identify(ctx, &a); err != nil {
			return Registration{}, err
		}
	} else if a.Name != "" || !a.BirthDate.IsZero() {
		if err := s.searched(a.Actor); err != nil {
			return Registration{}, err
		}
	}
	if r, ok, err := s.already(ctx, a, a.Actor); ok || err != nil {
		return r, err
	}
	if err := s.codes.take(a.Mobile, s.now()); err != nil {
		return Registration{}, err
	}
	r := Registration{ID: s.newID("reg-"), Programme: s.Programme.Code, Person: a.Person, Mobile: a.Mobile,
		Account: iban.IBAN(a.Account), Actor: a.Actor, Created: s.now().UTC(), Status: CodeSent}
	var code string
	err := s.timed(&r.Steps, "code", func(st *Step) error {
		var err error
		if code, r.Code, err = newCode(s.Rand, s.now()); err != nil {
			return err
		}
		return s.Sender.Send(ctx, Message{To: a.Mobile, At: s.now().UTC(),
			Text: fmt.Sprintf("%s: your code is %s (valid %s). Nobody from the programme will ask you for it.", s.Programme.Name, code, CodeLifetime)})
	})
	if err != nil {
		return Registration{}, err
	}
	r.Name, r.BirthDate = a.Name, a.BirthDate
	return r, s.Store.PutRegistration(ctx, r)
}

// Confirm takes the code entered and, when it is right, runs the checks: the
// programme's file on the person, the civil register, the rule, the bank account, the
// list, the mapper, the confirmation message. The registration returned says how each
// step went; an error is a failure of the hub, not a refusal.
func (s *Service) Confirm(ctx context.Context, id, code string) (Registration, error) {
	r, err := s.Store.Registration(ctx, id)
	if err != nil {
		return Registration{}, err
	}
	if r.Status != CodeSent && r.Status != Locked {
		return r, fault.Conflictf("status", "the registration is %s: it takes no code", r.Status)
	}
	var ok bool
	s.timed(&r.Steps, "code-check", func(st *Step) error {
		var why, what string
		if ok, why, what = r.Code.check(code, s.now()); !ok {
			st.Outcome, st.Why, st.What = Refused, why, what
		}
		return nil
	})
	switch {
	case ok:
		release := s.hold([]string{r.Person})
		r.Status = s.checks(ctx, &r, false)
		release()
	case !r.Code.Until.IsZero() && s.now().Before(r.Code.Until):
		r.Status = Locked
	}
	return r, s.Store.PutRegistration(ctx, r)
}

// Resend sends a new code, unless the registration is locked.
func (s *Service) Resend(ctx context.Context, id string) (Registration, error) {
	r, err := s.Store.Registration(ctx, id)
	if err != nil {
		return Registration{}, err
	}
	if r.Status != CodeSent && r.Status != Locked {
		return r, fault.Conflictf("status", "the registration is %s: it takes no code", r.Status)
	}
	if s.now().Before(r.Code.Until) {
		return r, fault.TooManyf(nil, "too many wrong codes: wait until %s", r.Code.Until.UTC().Format("15:04:05 MST"))
	}
	if err := s.codes.take(r.Mobile, s.now()); err != nil {
		return r, err
	}
	err = s.timed(&r.Steps, "code", func(st *Step) error {
		code, c, err := newCode(s.Rand, s.now())
		if err != nil {
			return err
		}
		r.Code, r.Status = c, CodeSent
		return s.Sender.Send(ctx, Message{To: r.Mobile, At: s.now().UTC(),
			Text: fmt.Sprintf("%s: your new code is %s (valid %s).", s.Programme.Name, code, CodeLifetime)})
	})
	if err != nil {
		return r, err
	}
	return r, s.Store.PutRegistration(ctx, r)
}

// already answers an application of a person on the list with an open right: the
// registration says so and nothing is done again (no code, no file, no message), so
// registering twice is harmless. ok is false for anyone else.
func (s *Service) already(ctx context.Context, a Application, actor string) (Registration, bool, error) {
	b, err := s.Store.Beneficiary(ctx, a.Person)
	if fault.KindOf(err) == fault.NotFound || (err == nil && b.Status != Active) {
		return Registration{}, false, nil
	}
	if err != nil {
		return Registration{}, false, err
	}
	return Registration{Programme: s.Programme.Code, Person: a.Person, Actor: actor, Created: s.now().UTC(), Status: AlreadyRegistered,
		Steps: []Step{{Name: "list", Outcome: OK, At: s.now().UTC(), Why: "already on the list since " + b.From.String() + ": nothing was done again",
			What: "nothing: the allowance is paid on the " + fmtInt(int64(s.Programme.PayDay)) + "th of each month; to change the account, ask the programme to update it"}}}, true, nil
}

// CodeRefusal is the refusal of the code last entered, as an error of its kind, for a
// front-end to answer with a status: too many tries (locked) or the code wrong,
// expired or used. Nil when the last step is not a refused code.
func (r Registration) CodeRefusal() error {
	if len(r.Steps) == 0 {
		return nil
	}
	st := r.Steps[len(r.Steps)-1]
	if st.Name != "code-check" || st.Outcome != Refused {
		return nil
	}
	if r.Status == Locked {
		return fault.TooManyf(nil, "%s: %s", st.Why, st.What)
	}
	return &fault.Error{Kind: fault.Forbidden, Field: "code", Msg: st.Why + ": " + st.What}
}

// refuse marks st refused.
func refuse(st *Step, why, what string) error {
	st.Outcome, st.Why, st.What = Refused, why, what
	return errStopped
}

// checks runs the steps after the code; it returns the registration's status.
func (s *Service) checks(ctx context.Context, r *Registration, filed bool) string {
	today := s.today()
	var civil map[string]any
	var name string
	var birth date.Date
	steps := []struct {
		name string
		fn   func(st *Step) error
	}{
		{"file", func(st *Step) error { return s.Hub.OpenFiles(ctx, []string{r.Person}, today) }},
		{"civil-register", func(st *Step) error {
			rec, seq, err := s.Hub.Ask(ctx, CivilQuestion, r.Person)
			st.Seqs = append(st.Seqs, seq)
			if err != nil {
				return err
			}
			if rec == nil {
				return refuse(st, "the civil register has no person with this number", "check the number on the identity card")
			}
			civil = rec
			name = strings.TrimSpace(str(rec["given_name"]) + " " + str(rec["family_name"]))
			birth, _ = date.Parse(str(rec["birth_date"]))
			if str(rec["death_date"]) != "" {
				return refuse(st, "the civil register records the person's death", "a relative can contact the programme")
			}
			// One answer for either: saying which would let anybody holding a person
			// number learn the register's name or birth date by trying.
			if (r.Name != "" && bank.NameScore(r.Name, name) < bank.MatchThreshold) || (!r.BirthDate.IsZero() && r.BirthDate != birth) {
				return refuse(st, "the name or the birth date given is not the civil register's", "give both as on the identity card")
			}
			return nil
		}},
		{"eligibility", func(st *Step) error {
			f, seqs, err := s.facts(ctx, r.Person, civil, today)
			st.Seqs = append(st.Seqs, seqs...)
			if err != nil {
				return err
			}
			d, err := s.Programme.Decide(f)
			if err != nil {
				return err
			}
			r.Decision = &d
			if !d.Eligible {
				return refuse(st, d.Why, d.What)
			}
			return nil
		}},
		{"bank-account", func(st *Step) error {
			seq, err := s.verify(ctx, st, r.Person, r.Account, name, birth)
			st.Seqs = append(st.Seqs, seq)
			return err
		}},
		// Listed before linked, by a conditional write: of two registrations of one
		// person at once, the second finds the first's right and does nothing more (no
		// link over the first's, no second message).
		{"list", func(st *Step) error {
			added, err := s.Store.AddBeneficiary(ctx, Beneficiary{Person: r.Person, Name: name, BirthDate: birth, From: today, Status: Active})
			if err == nil && !added {
				return errAlready
			}
			return err
		}},
		{"mapper", func(st *Step) error {
			seq, err := s.link(ctx, Mapping{Person: r.Person, FA: r.Account, Bank: s.BankCode, Name: name, Linked: s.now().UTC()})
			st.Seqs = append(st.Seqs, seq)
			return err
		}},
		{"confirmation", func(st *Step) error {
			return s.Sender.Send(ctx, Message{To: r.Mobile, At: s.now().UTC(), Text: fmt.Sprintf(
				"%s: you are registered. %s.%02d %s will be paid on the %dth of each month to the account ending %s.",
				s.Programme.Name, fmtInt(s.Programme.Amount/100), s.Programme.Amount%100, s.Programme.Currency, s.Programme.PayDay, string(r.Account[len(r.Account)-4:]))})
		}},
	}
	if filed { // a batch opened the files of all its applicants at once
		steps = steps[1:]
	}
	if !filed {
		if b, err := s.Store.Beneficiary(ctx, r.Person); err == nil && b.Status == Active {
			r.Steps = append(r.Steps, Step{Name: "list", Outcome: OK, At: s.now().UTC(),
				Why: "already on the list since " + b.From.String() + ": nothing was done again"})
			return AlreadyRegistered
		}
	}
	for _, step := range steps {
		if err := s.timed(&r.Steps, step.name, step.fn); err != nil {
			switch {
			case errors.Is(err, errAlready): // another registration listed the person meanwhile
				st := &r.Steps[len(r.Steps)-1]
				st.Outcome, st.Why, st.What = OK, "already on the list: nothing was done again", ""
				return AlreadyRegistered
			case step.name == "confirmation": // on the list: registered; the office sends the message again
				r.Steps[len(r.Steps)-1].What = "nothing: the programme's office sends the confirmation again"
				return Registered
			case step.name == "mapper": // listed but not linked: the listing is undone, nothing is half done
				s.unlist(ctx, r.Person)
			}
			s.closeFile(ctx, r)
			if step.name == "eligibility" && errors.Is(err, errStopped) {
				return Ineligible
			}
			return Stopped
		}
	}
	return Registered
}

// NotLinkedReason ends the right a registration listed before its mapper step failed.
const NotLinkedReason = "the registration did not complete: no account linked"

// unlist ends the right a registration listed before its mapper step failed, from its
// first day: never paid, and the person can register again.
func (s *Service) unlist(ctx context.Context, person string) {
	s.Store.EndRights(ctx, []string{person}, s.today(), NotLinkedReason)
}

// closeFile sets the programme's file on a refused applicant to be ended by the next
// CloseRefused (the person directory takes them in one batch rather than a write per
// registration), unless the person is on its list (an ended right keeps the file for
// the arrears).
func (s *Service) closeFile(ctx context.Context, r *Registration) {
	if _, err := s.Store.Beneficiary(ctx, r.Person); err == nil {
		return
	}
	s.closeMu.Lock()
	s.toClose = append(s.toClose, r.Person)
	s.closeMu.Unlock()
}

// CloseRefused ends, in one batch of the person directory, the files of the applicants
// refused since the last call; the serving hub calls it every few seconds, a batch at
// its end, OpenG2P's chain when it closes. On failure they stay to be closed next time.
//
// It holds closeMu while it closes, and skips the persons a registration is being
// checked for (hold): a registration starts either before (its person is skipped, left
// for the next call) or after the close (its file step opens the file anew),
// never between, so it is never stopped by the closing of an earlier refusal's file.
func (s *Service) CloseRefused(ctx context.Context) error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	ps := s.toClose
	s.toClose = nil
	// One who applied again meanwhile and is on the list now keeps the file; one being
	// checked now keeps it too.
	slices.Sort(ps)
	ps = slices.Compact(ps)
	refused := ps[:0:0]
	for _, p := range ps {
		if s.busy[p] > 0 {
			s.toClose = append(s.toClose, p) // decided after its checks end
			continue
		}
		if _, err := s.Store.Beneficiary(ctx, p); fault.KindOf(err) == fault.NotFound {
			refused = append(refused, p)
		}
	}
	if len(refused) == 0 {
		return nil
	}
	if err := s.Hub.CloseFiles(ctx, refused, s.today()); err != nil {
		s.toClose = append(refused, s.toClose...)
		return err
	}
	return nil
}

// hold marks persons as being checked until release is called: CloseRefused leaves
// their files open meanwhile.
func (s *Service) hold(persons []string) (release func()) {
	s.closeMu.Lock()
	if s.busy == nil {
		s.busy = map[string]int{}
	}
	for _, p := range persons {
		s.busy[p]++
	}
	s.closeMu.Unlock()
	return func() {
		s.closeMu.Lock()
		for _, p := range persons {
			if s.busy[p]--; s.busy[p] <= 0 {
				delete(s.busy, p)
			}
		}
		s.closeMu.Unlock()
	}
}

// verify asks the bank whether account is the person's, and records it.
func (s *Service) verify(ctx context.Context, st *Step, person string, account iban.IBAN, name string, birth date.Date) (int64, error) {
	v, err := s.Bank.Verify(ctx, bank.VerifyRequest{Account: account, Name: name, BirthDate: birth})
	if err != nil {
		return 0, err
	}
	outcome := "holder_matches"
	switch {
	case !v.Exists:
		outcome = "no_such_account"
	case !v.Active:
		outcome = "account_closed"
	case !v.HolderMatches:
		outcome = "holder_does_not_match"
	}
	res, _ := json.Marshal(v)
	seq, err := s.Hub.Record(ctx, Action{Service: "g2p.bank", Purpose: "account verification for " + s.Programme.Name,
		Persons: []string{person}, Outcome: outcome, Reasons: []string{fmt.Sprintf("name-match score %d", v.Score)},
		Request: []byte(string(account) + "|" + name), Result: res})
	if err != nil {
		return 0, err
	}
	switch outcome {
	case "no_such_account":
		return seq, refuse(st, "the bank has no such account", "check the account number with the bank")
	case "account_closed":
		return seq, refuse(st, "the account is closed", "give an open account")
	case "holder_does_not_match":
		return seq, refuse(st, "the account's holder is not the applicant", "give an account in the applicant's own name")
	}
	return seq, nil
}

// facts gathers the rule's inputs through the hub.
func (s *Service) facts(ctx context.Context, person string, civil map[string]any, day date.Date) (Facts, []int64, error) {
	var f Facts
	birth, err := date.Parse(str(civil["birth_date"]))
	if err != nil {
		return f, nil, fault.Invalidf("birth_date", "the civil register gave no birth date")
	}
	f.Age, f.Deceased = Age(birth, day), str(civil["death_date"]) != ""
	social, seq1, err := s.Hub.Ask(ctx, SocialQuestion, person)
	if err != nil {
		return f, []int64{seq1}, err
	}
	ben, seq2, err := s.Hub.Ask(ctx, PensionQuestion, person)
	seqs := []int64{seq1, seq2}
	if err != nil {
		return f, seqs, err
	}
	if hh, ok := social["household"].(map[string]any); ok {
		f.Resident = str(hh["region"]) != ""
		f.Income = int64(num(hh["monthly_income"]) * 100)
	}
	if progs, ok := ben["programmes"].([]any); ok {
		for _, p := range progs {
			pr, _ := p.(map[string]any)
			if str(pr["programme"]) == "old-age-pension" && str(pr["status"]) == "active" {
				f.Pension = int64(num(pr["monthly_amount"]) * 100)
			}
		}
	}
	return f, seqs, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case json.Number:
		f, _ := n.Float64()
		return f
	}
	return 0
}

func fmtInt(n int64) string { return fmt.Sprintf("%d", n) }
