package g2p

import (
	"context"
	"strings"
	"unicode"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// PurposeIdentify is the purpose of the search of the civil register by name and birth
// date: an applicant who does not know their person number. Its authorization needs no
// file on the person (the applicant has none yet): it is one of identification
// (IdentifyFields), under which the hub's exchange answers only a filter fixing the full
// name and the birth date by equality, three records at most.
const PurposeIdentify = "Old-age allowance: identifying an applicant without a person number by full name and birth date"

// IdentifyQuestion is that search: what it matches on and returns (the person number
// and whether the register records a death), nothing else.
var IdentifyQuestion = Question{Service: "civil-person", Purpose: PurposeIdentify,
	Fields: []string{"person", "given_name", "family_name", "birth_date", "death_date"}}

// IdentifyFields are the fields an identification fixes: the authorization's Identify.
var IdentifyFields = []string{"given_name", "family_name", "birth_date"}

// NameSplit is one way of reading a full name as given names and family name.
type NameSplit struct{ Given, Family string }

// Identity is what the register is searched by: the ways of reading the full name, and
// the birth date.
type Identity struct {
	Names     []NameSplit
	BirthDate date.Date
}

// MaxNameWords bounds the words of a full name searched (their splits are asked in one
// question).
const MaxNameWords = 6

// ParseName reads a full name as an applicant's identity document gives it: letters
// (any script), spaces, hyphens, apostrophes and dots; at least a given name and a
// family name, each word of two characters or more unless it is an initial with a dot.
// Anything else (a wildcard, a pattern, a digit, a single word) is refused naming the
// field: the register is searched for exactly that name, never for names like it.
func ParseName(name string) ([]string, error) {
	if len(name) > 200 {
		return nil, fault.Invalidf("name", "at most 200 characters")
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) && r != ' ' && r != '-' && r != '\'' && r != '.' && r != '’' {
			return nil, fault.Invalidf("name", "the full name as on the identity card: letters, spaces, hyphens, apostrophes and dots only (%q is not one)", r)
		}
	}
	words := strings.Fields(name)
	if len(words) < 2 {
		return nil, fault.Invalidf("name", "the full name as on the identity card: given name and family name")
	}
	if len(words) > MaxNameWords {
		return nil, fault.Invalidf("name", "at most %d words", MaxNameWords)
	}
	for _, w := range words {
		if n := len([]rune(strings.Trim(w, ".-'’"))); n == 0 || (n < 2 && !strings.HasSuffix(w, ".")) {
			return nil, fault.Invalidf("name", "%q is not a whole name: give the names in full, as on the identity card", w)
		}
	}
	return words, nil
}

// splits are the readings of a full name: given names then family name, cut between
// any two words ("Anna Maria De Smet": Anna | Maria De Smet, Anna Maria | De Smet, …),
// each also in the register's capitalisation (first letter of each word upper case).
func splits(words []string) []NameSplit {
	var out []NameSplit
	for cut := 1; cut < len(words); cut++ {
		g, f := strings.Join(words[:cut], " "), strings.Join(words[cut:], " ")
		out = append(out, NameSplit{g, f})
		if tg, tf := titled(g), titled(f); tg != g || tf != f {
			out = append(out, NameSplit{tg, tf})
		}
	}
	return out
}

// titled capitalises the first letter of each word and of each part after a hyphen,
// the rest lower case: "DE SMET-peeters" → "De Smet-Peeters".
func titled(s string) string {
	rs := []rune(strings.ToLower(s))
	for i := range rs {
		if i == 0 || rs[i-1] == ' ' || rs[i-1] == '-' {
			rs[i] = unicode.ToUpper(rs[i])
		}
	}
	return string(rs)
}

// MaxSearches bounds the searches by name of one social worker (or the applicant) in
// CodeWindow: enough for a day's applicants at a desk, too few to enumerate the
// register by trying names and days.
const MaxSearches = 100

// searched counts a try at the register's data by actor: a search by name, or a person
// number given with a name or a birth date to check (one answer for a mismatch of
// either, but a try all the same); refused beyond MaxSearches in CodeWindow.
func (s *Service) searched(actor string) error {
	return s.searches.takeN(actor, s.now(), MaxSearches, "searches of the register by name were made by this social worker")
}

// identify finds the applicant's person number in the civil register through the hub
// (an authorized, recorded search) by full name and birth date: exactly one living
// person proceeds; none, or several, are refused with what the applicant can do, and
// no candidate is named (not even how many there are beyond "several").
func (s *Service) identify(ctx context.Context, a *Application) error {
	words, err := ParseName(a.Name)
	if err != nil {
		return err
	}
	if a.BirthDate.IsZero() || a.BirthDate > s.today() {
		return fault.Invalidf("birth_date", "the birth date as on the identity card, YYYY-MM-DD")
	}
	if err := s.searched(a.Actor); err != nil {
		return err
	}
	recs, _, err := s.Hub.Identify(ctx, IdentifyQuestion, Identity{Names: splits(words), BirthDate: a.BirthDate})
	if err != nil {
		return err
	}
	var living []string
	for _, r := range recs {
		if str(r["death_date"]) == "" && str(r["person"]) != "" {
			living = append(living, str(r["person"]))
		}
	}
	switch len(living) {
	case 1:
		a.Person = living[0]
		return nil
	case 0:
		return &fault.Error{Kind: fault.NotFound, Field: "name", Msg: "no living person of the civil register has this full name and birth date: " +
			"give them exactly as on the identity card, or give the person number printed on it"}
	}
	return &fault.Error{Kind: fault.Conflict, Field: "name", Msg: "more than one person of the civil register has this full name and birth date: " +
		"give the person number printed on the identity card"}
}
