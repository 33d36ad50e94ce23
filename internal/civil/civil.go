// Package civil serves the built-in population register as an authentic source of the
// exchange: it answers identifier look-ups (person number, birth registration number)
// and filters, with person records as the DCI civil registry carries them.
//
// The hub reaches it through exchange.Source like any remote registry; the HTTP layer
// also serves it over DCI, so that the hub can be configured to reach it over the network
// exactly as it reaches a remote source.
package civil

import (
	"context"
	"slices"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// RecordType is the DCI record type of the register's records: the civil registry's in
// the table of registries.
var RecordType = dci.RegistryOf("civil").RecordType

// Source answers questions from the register.
type Source struct {
	Store    population.Store
	Searcher population.Searcher
}

// SearchesInScope: filters are evaluated within the asker's persons (query.Query.Scope).
func (s *Source) SearchesInScope() bool { return true }

// Search answers one question; fields bound what each record carries. A look-up about a
// past day answers the record as it stood that day, rebuilt from the register's events.
func (s *Source) Search(ctx context.Context, r exchange.SourceRequest) (exchange.SourceResult, error) {
	var ps []population.Person
	total := 0
	switch r.Query.Kind {
	case query.KindID:
		p, err := s.lookup(ctx, r.Query.IDType, r.Query.IDValue)
		if err == nil && r.Past() {
			p, err = s.on(ctx, p, r)
		}
		if fault.KindOf(err) == fault.NotFound {
			return exchange.SourceResult{Records: []map[string]any{}}, nil
		}
		if err != nil {
			return exchange.SourceResult{}, err
		}
		ps, total = []population.Person{p}, 1
	case query.KindFilter:
		if r.Past() {
			return exchange.SourceResult{}, fault.Invalidf("header.meta.on_date", "the civil register answers filters about today only")
		}
		var err error
		if ps, total, err = s.Searcher.Search(ctx, r.Query); err != nil {
			return exchange.SourceResult{}, err
		}
	default:
		return exchange.SourceResult{}, fault.Invalidf("query_type", "the civil register answers identifier look-ups and filters")
	}
	var fields []string // nil: all
	if r.Fields != nil {
		fields = append(slices.Clip(r.Fields), "person")
	}
	out := exchange.SourceResult{Records: make([]map[string]any, 0, len(ps)), Total: total}
	for i := range ps {
		out.Records = append(out.Records, record(&ps[i], fields))
	}
	return out, nil
}

// on rebuilds p as it stood on r.Day; NotFound when p was not yet born, Invalid when a
// field asked for is one the register's history does not tell for that day.
func (s *Source) on(ctx context.Context, p population.Person, r exchange.SourceRequest) (population.Person, error) {
	q, unknown, ok, err := population.PersonOn(ctx, s.Store, p, r.Day, r.Today)
	if err != nil {
		return population.Person{}, err
	}
	if !ok {
		return population.Person{}, fault.NotFoundf("not in the register on %s", r.Day)
	}
	for _, f := range unknown {
		if r.Fields == nil || exchange.Allowed(f, r.Fields) != nil {
			return population.Person{}, population.ErrUnknownOn(f, r.Day)
		}
	}
	return q, nil
}

// IDTypes lists the identifier types the register answers look-ups by.
func IDTypes() []string {
	return exchange.IDTypesOf(exchange.IDPerson, exchange.IDUnique, exchange.IDBirth)
}

// lookup finds one person by an identifier type the register knows.
func (s *Source) lookup(ctx context.Context, idType, value string) (population.Person, error) {
	switch exchange.IDTypeOf(idType) {
	case exchange.IDBirth:
		return s.Store.PersonByBRN(ctx, value)
	case exchange.IDPerson, exchange.IDUnique:
		n, err := ident.ParsePerson(value)
		if err != nil {
			return population.Person{}, fault.Invalidf("query.value", "%q is not a person number", value)
		}
		return s.Store.Person(ctx, n.String())
	}
	return population.Person{}, fault.Invalidf("query.type", "identifier type %q is not known here; use %s", idType, strings.Join(IDTypes(), ", "))
}

// Record turns a person into the record the source returns: its fields under their JSON
// names, with the JSON-LD type marker, and empty values left out. It is built by hand,
// not through encoding/json, because it runs on every answer.
func Record(p *population.Person) (map[string]any, error) { return record(p, nil), nil }

// record is Record minimised to fields (nil: all), as exchange.Minimise would leave it,
// without building what it would drop.
func record(p *population.Person, fields []string) map[string]any {
	m := make(map[string]any, 20)
	put := func(k, v string) {
		if v != "" && (fields == nil || whole(exchange.Allowed(k, fields))) {
			m[k] = v
		}
	}
	m["@type"] = RecordType
	put("person", p.Number)
	put("brn", p.BRN)
	put("given_name", p.GivenName)
	put("family_name", p.FamilyName)
	put("sex", p.Sex)
	put("birth_date", p.BirthDate.String())
	put("birth_place", p.BirthPlace)
	put("death_date", p.DeathDate.String())
	put("mother", p.Mother)
	put("father", p.Father)
	put("marital_status", p.MaritalStatus)
	put("spouse", p.Spouse)
	put("nationality", p.Nationality)
	put("household", p.Household)
	var sub []string // the address fields kept; empty: all
	if fields != nil {
		if sub = exchange.Allowed("address", fields); sub == nil {
			return m
		}
	}
	addr := map[string]any{}
	for k, v := range map[string]string{"street": p.Address.Street, "house_number": p.Address.HouseNumber,
		"postal_code": p.Address.PostalCode, "municipality": p.Address.Municipality, "region": p.Address.Region} {
		if v != "" && (len(sub) == 0 || whole(exchange.Allowed(k, sub))) {
			addr[k] = v
		}
	}
	if len(addr) > 0 {
		m["address"] = addr
	}
	return m
}

// whole says whether exchange.Allowed keeps a field entirely.
func whole(sub []string) bool { return sub != nil && len(sub) == 0 }
