package g2p

import (
	"context"
	"fmt"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/iban"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

// The identifier-to-account mapper (G2P Connect mapper): a person number linked to a
// financial address, so that a programme pays by person number without holding
// account numbers in its own records. Only the programme's own beneficiaries and
// applicants can be linked or resolved; every operation is recorded in the audit log,
// naming the person, never the account.

// PersonID is the G2P Connect form of a person number: "pn:<number>@crossroads".
func PersonID(person string) string { return "pn:" + person + "@crossroads" }

// ParsePersonID reads a G2P Connect person id, or a bare person number.
func ParsePersonID(s string) (string, error) {
	v := s
	if rest, ok := strings.CutPrefix(strings.ToLower(s), "pn:"); ok {
		v, _, _ = strings.Cut(rest, "@")
	}
	p, err := ident.ParsePerson(v)
	if err != nil {
		return "", fault.Invalidf("id", "%q is not a person id (pn:<person number>@crossroads): %v", clip(s), err)
	}
	return p.String(), nil
}

// FinancialAddress is the G2P Connect form of an account: "iban:<IBAN>@<bank>".
func FinancialAddress(a iban.IBAN, bankCode string) string {
	return "iban:" + string(a) + "@" + bankCode
}

// maxFA bounds a financial address: "iban:", an IBAN of at most 34 characters (written
// with spaces, 42), "@" and a bank code of at most 40.
const maxFA = 5 + 42 + 1 + 40

// ParseFinancialAddress reads a financial address, "iban:<IBAN>@<bank>" (the bank a
// lower-case code of letters, digits and hyphens), or a bare IBAN (no bank named).
func ParseFinancialAddress(s string) (iban.IBAN, string, error) {
	bad := func(why string, args ...any) (iban.IBAN, string, error) {
		return "", "", fault.Invalidf("fa", "%q is not a financial address (iban:<IBAN>@<bank>): %s", clip(s), fmt.Sprintf(why, args...))
	}
	if len(s) > maxFA {
		return bad("longer than %d characters", maxFA)
	}
	v, provider := s, ""
	if len(s) >= 5 && strings.EqualFold(s[:5], "iban:") {
		var ok bool
		if v, provider, ok = strings.Cut(s[5:], "@"); !ok {
			return bad("no bank after the IBAN (@<bank>)")
		}
		if !bankCode(provider) {
			return bad("the bank %q is not a bank code (lower-case letters, digits and hyphens, at most 40)", clip(provider))
		}
	}
	a, err := iban.Parse(v)
	if err != nil {
		return bad("%v", err)
	}
	return a, provider, nil
}

// bankCode reports whether s is a bank code: 1 to 40 lower-case letters, digits and
// hyphens, not starting with a hyphen.
func bankCode(s string) bool {
	if s == "" || len(s) > 40 || s[0] == '-' {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// Account reads a financial address given to the programme's mapper: well formed, and
// of the bank the programme pays through (a bare IBAN is taken as of that bank). An
// account of another bank would be linked and never paid.
func (s *Service) Account(fa string) (iban.IBAN, error) {
	a, provider, err := ParseFinancialAddress(fa)
	if err != nil {
		return "", err
	}
	if provider != "" && provider != s.BankCode {
		return "", fault.Invalidf("fa", "the bank %q is unknown to %s: it pays through %s", clip(provider), s.Programme.Name, s.BankCode)
	}
	return a, nil
}

// mayMap reports whether the programme may link or resolve person: a beneficiary (open
// or ended: arrears) or an applicant of its own.
func (s *Service) mayMap(ctx context.Context, person string) error {
	if _, err := s.Store.Beneficiary(ctx, person); err == nil {
		return nil
	} else if fault.KindOf(err) != fault.NotFound {
		return err
	}
	return fault.Forbiddenf("%s is not on the list of %s: its account cannot be resolved", person, s.Programme.Name)
}

// link stores a mapping and records it.
func (s *Service) link(ctx context.Context, m Mapping) (int64, error) {
	if err := s.Store.Link(ctx, m); err != nil {
		return 0, err
	}
	return s.Hub.Record(ctx, Action{Service: "g2p.mapper", Purpose: "link " + s.Programme.Name,
		Persons: []string{m.Person}, Outcome: "linked", Request: []byte(m.Person + "|" + string(m.FA))})
}

// Resolve returns the accounts of persons, all of them on the programme's list, and
// records the resolution. A person not on the list refuses the whole request, recorded
// as a refusal naming the persons asked.
func (s *Service) Resolve(ctx context.Context, persons []string) (map[string]Mapping, int64, error) {
	for _, p := range persons {
		if err := s.mayMap(ctx, p); err != nil {
			seq, rerr := s.recordMany(ctx, Action{Service: "g2p.mapper", Purpose: "resolve " + s.Programme.Name,
				Outcome: "refused", Reasons: []string{err.Error()}, Deny: true}, persons)
			if rerr != nil {
				return nil, 0, rerr
			}
			return nil, seq, err
		}
	}
	return s.resolve(ctx, persons)
}

// resolve resolves and records, for persons the caller knows are the programme's own
// (the cycle's list).
func (s *Service) resolve(ctx context.Context, persons []string) (map[string]Mapping, int64, error) {
	ms, err := s.Store.Resolve(ctx, persons)
	if err != nil {
		return nil, 0, err
	}
	seq, err := s.recordMany(ctx, Action{Service: "g2p.mapper", Purpose: "resolve " + s.Programme.Name,
		Outcome: fmt.Sprintf("resolved %d of %d", len(ms), len(persons))}, persons)
	if err != nil {
		return nil, 0, err
	}
	return ms, seq, nil
}

// Update links a beneficiary to a new account, verified with the bank first.
func (s *Service) Update(ctx context.Context, person string, account iban.IBAN) (Step, error) {
	var steps []Step
	err := s.timed(&steps, "mapper-update", func(st *Step) error {
		if err := s.mayMap(ctx, person); err != nil {
			return refuse(st, err.Error(), "register the person first")
		}
		b, err := s.Store.Beneficiary(ctx, person)
		if err != nil {
			return err
		}
		seq, err := s.verify(ctx, st, person, account, b.Name, b.BirthDate)
		st.Seqs = append(st.Seqs, seq)
		if err != nil {
			return err
		}
		seq, err = s.link(ctx, Mapping{Person: person, FA: account, Bank: s.BankCode, Name: b.Name, Linked: s.now().UTC()})
		st.Seqs = append(st.Seqs, seq)
		return err
	})
	if err == errStopped {
		err = nil
	}
	return steps[0], err
}

// Unlink removes a beneficiary's account; payments are held until a new one is linked.
func (s *Service) Unlink(ctx context.Context, person string) (int64, error) {
	if err := s.mayMap(ctx, person); err != nil {
		return 0, err
	}
	if err := s.Store.Unlink(ctx, person); err != nil {
		return 0, err
	}
	return s.Hub.Record(ctx, Action{Service: "g2p.mapper", Purpose: "unlink " + s.Programme.Name, Persons: []string{person}, Outcome: "unlinked"})
}
