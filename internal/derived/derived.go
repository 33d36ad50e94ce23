// Package derived serves the built-in authentic sources besides the civil register: the
// social registry (households, income, employment, poverty score), the integrated
// beneficiary registry (programmes and enrolments), the disability registry (Washington
// Group functional domains and severity) and the farmer registry. Their synthetic data is
// not stored: every record is derived from the civil register's person and household,
// with values drawn deterministically from the person number, so that the registries
// agree with the population register and with each other in every nation, whatever its
// size, at no cost in storage or generation time. What is stored are the changes
// declared to them (change.go: a hire, an income, an assessment, an enrolment): events
// of the built-in sources' log that override the derived values from their date on and
// reach the institutions with a file on the person like the civil register's events.
//
// Each is an exchange.Source, registered in the directory as a service like a remote
// registry. They answer identifier look-ups (person number or the registry's own
// identifier); filters over their derived values are refused with a clear error.
package derived

import (
	"context"
	"math"
	"slices"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// Kinds of derived registries, as the services' endpoints name them (builtin:<kind>).
const (
	Social      = "social"
	Beneficiary = "beneficiary"
	Disability  = "disability"
	Farmer      = "farmer"
)

// Kinds lists them.
var Kinds = []string{Social, Beneficiary, Disability, Farmer}

// Source is one derived registry.
type Source struct {
	Kind     string
	Store    population.Store
	Searcher population.Searcher
	// Aliases maps fixture identifiers (the social registry's UIN "TEST-001", the farmer
	// registry's "FARMER-TEST-001", the disability registry's "DR-MEMBER-001") to the
	// person number they stand for. A person with a disability registry member
	// identifier (DR-MEMBER-…) has the fixed difficulties of fixtureDomains there.
	Aliases map[string]string
	// Today is the day ages and enrolments are counted on; nil: the store's clock is not
	// known here, so the caller passes the day asked about or today.
	Today func() date.Date
	// Decisions, when set, are the rights engine's (#19): the beneficiary registry's
	// programmes paid on a right (Paid: right → programme) come from the rights the
	// person holds, no longer from a poverty score computed here.
	Decisions Decisions
	Paid      map[string]string
}

// Decisions tells the rights a person holds and since when (the grant's effective day).
type Decisions interface {
	Held(ctx context.Context, person string) (map[string]date.Date, error)
}

// Search answers one look-up.
func (s *Source) Search(ctx context.Context, r exchange.SourceRequest) (exchange.SourceResult, error) {
	if r.Query.Kind != query.KindID {
		return exchange.SourceResult{}, fault.Invalidf("query_type", "the built-in %s registry answers identifier look-ups (idtype-value) only", s.Kind)
	}
	p, err := s.person(ctx, r.Query.IDType, r.Query.IDValue)
	if fault.KindOf(err) == fault.NotFound {
		return exchange.SourceResult{Records: []map[string]any{}}, nil
	}
	if err != nil {
		return exchange.SourceResult{}, err
	}
	day := r.Day
	if day.IsZero() && s.Today != nil {
		day = s.Today()
	}
	if r.Past() {
		if p, err = s.on(ctx, p, r); fault.KindOf(err) == fault.NotFound {
			return exchange.SourceResult{Records: []map[string]any{}}, nil
		} else if err != nil {
			return exchange.SourceResult{}, err
		}
	}
	rec, err := s.record(ctx, &p, day, allChanges)
	if err != nil || rec == nil {
		return exchange.SourceResult{Records: []map[string]any{}}, err
	}
	if r.Fields != nil {
		rec = exchange.Minimise(rec, append(r.Fields, "person"))
	}
	return exchange.SourceResult{Records: []map[string]any{rec}, Total: 1}, nil
}

// on rebuilds p as it stood on the past day r asks about. The social and beneficiary
// registries derive a record from the whole household, whose past composition the
// register's events do not give for every member: they answer about today only.
func (s *Source) on(ctx context.Context, p population.Person, r exchange.SourceRequest) (population.Person, error) {
	if s.Kind == Social || s.Kind == Beneficiary {
		return population.Person{}, fault.Invalidf("header.meta.on_date", "the %s registry answers about today only", s.Kind)
	}
	q, unknown, ok, err := population.PersonOn(ctx, s.Store, p, r.Day, r.Today)
	if err != nil {
		return population.Person{}, err
	}
	if !ok {
		return population.Person{}, fault.NotFoundf("not in the register on %s", r.Day)
	}
	if s.Kind == Farmer && slices.Contains(unknown, "address") {
		return population.Person{}, population.ErrUnknownOn("the region", r.Day)
	}
	return q, nil
}

// person finds the person an identifier names.
func (s *Source) person(ctx context.Context, idType, value string) (population.Person, error) {
	if n, ok := s.Aliases[value]; ok {
		return s.Store.Person(ctx, n)
	}
	switch kind := exchange.IDTypeOf(idType); {
	case kind == exchange.IDBirth:
		return s.Store.PersonByBRN(ctx, value)
	case kind == exchange.IDFarmer && s.Kind == Farmer:
		n, ok := strings.CutPrefix(value, farmerPrefix)
		if !ok {
			return population.Person{}, fault.NotFoundf("no farmer %q", value)
		}
		value = n
	case kind == exchange.IDPerson || kind == exchange.IDUnique:
	default:
		return population.Person{}, fault.Invalidf("query.type", "identifier type %q is not known to the %s registry; use %s",
			idType, s.Kind, strings.Join(s.IDTypes(), ", "))
	}
	n, err := ident.ParsePerson(value)
	if err != nil {
		return population.Person{}, fault.NotFoundf("%q is not a person number", value)
	}
	return s.Store.Person(ctx, n.String())
}

// IDTypes lists the identifier types the registry answers look-ups by.
func (s *Source) IDTypes() []string {
	return IDTypes(s.Kind)
}

// IDTypes lists the identifier types the derived registry kind answers look-ups by.
func IDTypes(kind string) []string {
	kinds := []string{exchange.IDPerson, exchange.IDUnique, exchange.IDBirth}
	if kind == Farmer {
		kinds = append(kinds, exchange.IDFarmer)
	}
	return exchange.IDTypesOf(kinds...)
}

// Record returns person's record in this registry on day, with the changes declared up
// to that day; nil when the person is not in the registry.
func (s *Source) Record(ctx context.Context, person string, day date.Date) (map[string]any, error) {
	p, err := s.Store.Person(ctx, person)
	if err != nil {
		return nil, err
	}
	return s.record(ctx, &p, day, allChanges)
}

// RecordAfter returns the person's record in this registry as the change ev (an event
// of the log, as the outbox gives it) left it, on ev's date: the person as ev carries it
// (else, for an event recorded before events kept it, as the register holds it now),
// with the changes declared up to ev, not those recorded after it; nil when the person
// is not in the registry. The other members of a household (the social and beneficiary
// registries) are read as they are now.
func (s *Source) RecordAfter(ctx context.Context, ev population.Event) (map[string]any, error) {
	p := ev.After
	if p == nil {
		now, err := s.Store.Person(ctx, ev.Person)
		if err != nil {
			return nil, err
		}
		p = &now
	}
	return s.record(ctx, p, ev.Date, ev.Seq)
}

// allChanges bounds no change by its seq: the record with every change declared.
const allChanges = math.MaxInt64

// record derives the registry's record of p on day, with the changes declared up to
// seq upTo; nil when p is not in this registry.
func (s *Source) record(ctx context.Context, p *population.Person, day date.Date, upTo int64) (map[string]any, error) {
	switch s.Kind {
	case Social, Beneficiary:
		members, err := s.household(ctx, p)
		if err != nil {
			return nil, err
		}
		all := []*population.Person{p}
		for i := range members {
			all = append(all, &members[i])
		}
		decl, err := s.declared(ctx, day, upTo, all...)
		if err != nil {
			return nil, err
		}
		if s.Kind == Social {
			return socialRecord(p, members, decl, day), nil
		}
		var paid map[string]date.Date // programme → since; nil: derived
		if s.Decisions != nil {
			held, err := s.Decisions.Held(ctx, p.Number)
			if err != nil {
				return nil, err
			}
			paid = map[string]date.Date{}
			for right, since := range held {
				if prog := s.Paid[right]; prog != "" {
					paid[prog] = since
				}
			}
		}
		return beneficiaryRecord(p, members, decl, day, paid), nil
	case Disability:
		decl, err := s.declared(ctx, day, upTo, p)
		if err != nil {
			return nil, err
		}
		d := decl[p.Number]
		if (d == nil || d.domains == nil) && s.aliasOf(p.Number, drMemberPrefix) != "" {
			d = &declared{domains: fixtureDomains}
		}
		return disabilityRecord(p, d, day), nil
	case Farmer:
		if s.isFixture(p.Number) {
			return farmerRecord(p, s.farmerID(p.Number)), nil
		}
		if !isFarmer(p, day) {
			return nil, nil
		}
		return farmerRecord(p, s.farmerID(p.Number)), nil
	}
	return nil, fault.Wrap(errKind(s.Kind), "derive a record")
}

type errKind string

func (e errKind) Error() string { return "unknown derived registry " + string(e) }

func (s *Source) isFixture(number string) bool {
	for _, n := range s.Aliases {
		if n == number {
			return true
		}
	}
	return false
}

// farmerID is the farmer registry's identifier of a person: the fixture's alias, or
// FARMER- followed by the person number.
func (s *Source) farmerID(number string) string {
	if alias := s.aliasOf(number, farmerPrefix); alias != "" {
		return alias
	}
	return farmerPrefix + number
}

// aliasOf returns the alias of the person number with prefix, "" when it has none.
func (s *Source) aliasOf(number, prefix string) string {
	for alias, n := range s.Aliases {
		if n == number && strings.HasPrefix(alias, prefix) {
			return alias
		}
	}
	return ""
}

const (
	farmerPrefix   = "FARMER-"
	drMemberPrefix = "DR-MEMBER-"
)

// fixtureDomains are the difficulties of the disability registry's fixture member: test
// tools expect it disabled, with details and a need of support (a lot of difficulty or
// worse in a domain), as the DR document's examples show (walking, self-care).
var fixtureDomains = map[string]string{"seeing": "some difficulty", "hearing": "no difficulty",
	"walking": "cannot do at all", "cognition": "no difficulty", "self_care": "a lot of difficulty", "communication": "no difficulty"}

// household returns the living members of p's household (p included), at most 20.
func (s *Source) household(ctx context.Context, p *population.Person) ([]population.Person, error) {
	if p.Household == "" || s.Searcher == nil {
		return []population.Person{*p}, nil
	}
	var members []population.Person
	var err error
	if h, ok := s.Store.(households); ok {
		members, err = h.Household(ctx, p.Household, maxHousehold)
	} else {
		members, _, err = s.Searcher.Search(ctx, query.Query{Kind: query.KindFilter, Filter: &query.Cond{Op: query.Eq, Attr: "household", Value: p.Household}, Page: 1, PageSize: maxHousehold})
	}
	if err != nil {
		return nil, err
	}
	out := members[:0]
	for _, m := range members {
		if m.DeathDate.IsZero() {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		out = append(out, *p)
	}
	return out, nil
}

// maxHousehold bounds the members of a household a record names (the first by number).
const maxHousehold = 20

// households is a Store that lists a household's members itself (sqlstore), in number
// order, at most limit, the dead too: what a search by filter on household answers, at
// less cost.
type households interface {
	Household(ctx context.Context, id string, limit int) ([]population.Person, error)
}

// draw returns a number in [0, n) fixed by the person number and a salt: FNV-1a (64
// bits) of salt, a zero byte and number.
func draw(number, salt string, n uint64) uint64 {
	return drawSalted(number, "", salt, n)
}

// drawSalted is draw with the salt prefix+salt, without making it (a national read
// draws several times a person: no allocation). The FNV-1a is hash/fnv's, written out.
func drawSalted(number, prefix, salt string, n uint64) uint64 {
	h := fnvAdd(fnvAdd(fnvOffset, prefix), salt)
	h = (h ^ 0) * fnvPrime
	return fnvAdd(h, number) % n
}

const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

func fnvAdd(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// age is p's age in whole years on day.
func age(p *population.Person, day date.Date) int { return ageOn(p.BirthDate, day) }

// ageOn is the age in whole years on day of a person born on birth.
func ageOn(birth, day date.Date) int {
	if birth.IsZero() || day.IsZero() {
		return 0
	}
	a := day.Year() - birth.Year()
	if day.Month() < birth.Month() || (day.Month() == birth.Month() && day.Day() < birth.Day()) {
		a--
	}
	return max(a, 0)
}
