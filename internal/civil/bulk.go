package civil

import (
	"context"
	"slices"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// SearchPersons answers look-ups of many persons by number about today
// (exchange.BulkSource): one read of the register for all when its store reads many at
// once (population.Many), each record written as JSON straight from the stored document,
// minimised to r.Fields, without decoding it into a Person or building a map.
func (s *Source) SearchPersons(ctx context.Context, r exchange.BulkRequest) ([]exchange.RawRecord, error) {
	var fields []string // nil: all
	if r.Fields != nil {
		fields = append(slices.Clip(r.Fields), "person")
	}
	m, ok := s.Store.(population.Many)
	if !ok {
		var out []exchange.RawRecord
		for _, n := range r.Persons {
			p, err := s.Store.Person(ctx, n)
			if fault.KindOf(err) == fault.NotFound {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, exchange.RawRecord{Person: p.Number, JSON: AppendRecord(nil, &p, fields)})
		}
		return out, nil
	}
	out := make([]exchange.RawRecord, 0, len(r.Persons))
	buf := make([]byte, 0, 320*len(r.Persons))
	var keep *exchange.Minimiser // what fields allow of each member, worked out once
	if fields != nil {
		keep = exchange.NewMinimiser(fields)
	}
	for rest := r.Persons; len(rest) > 0; {
		n := min(len(rest), population.MaxMany)
		err := m.PersonDocs(ctx, rest[:n], func(doc []byte) error {
			start := len(buf)
			var person string
			var ok bool
			if buf, person, ok = appendDoc(buf, doc, keep); !ok {
				var p population.Person
				if err := population.DecodePerson(doc, &p); err != nil {
					return fault.Wrap(err, "decode person")
				}
				buf, person = AppendRecord(buf[:start], &p, fields), p.Number
			}
			out = append(out, exchange.RawRecord{Person: person, JSON: buf[start:len(buf):len(buf)]})
			return nil
		})
		if err != nil {
			return nil, err
		}
		rest = rest[n:]
	}
	return out, nil
}

// appendDoc appends the record of a stored person document minimised to the fields of
// keep (nil: all), as AppendRecord writes it, copying its values as they are; ok is
// false, with dst unchanged, when the document holds anything but what json.Marshal
// writes of a Person (the caller then decodes it).
func appendDoc(dst, doc []byte, keep *exchange.Minimiser) (_ []byte, person string, ok bool) {
	if !rawjson.Valid(doc) {
		return dst, "", false
	}
	start := len(dst)
	dst = append(dst, `{"@type":`...)
	dst = rawjson.AppendString(dst, RecordType)
	ok = rawjson.EachPlainMember(doc, func(name, v []byte) bool {
		switch string(name) {
		case "registry_changes":
			return true
		case "address":
			var kept bool
			dst, kept = appendDocAddress(dst, v, keep)
			return kept
		case "person":
			p, ok := rawjson.Unquote(v)
			person = p
			if !ok {
				return false
			}
		case "birth_date", "death_date":
			if s, ok := rawjson.Unquote(v); ok {
				if _, err := date.Parse(s); err != nil {
					return false
				}
			}
		}
		if !knownMember(string(name)) || len(v) < 2 {
			return false
		}
		if v[0] != '"' && string(v) != "null" {
			return false
		}
		if string(v) == `""` || string(v) == "null" || (keep != nil && !whole(keep.Keep(name))) {
			return true
		}
		dst = append(dst, ',', '"')
		dst = append(dst, name...) // a known member's name: nothing to escape
		dst = append(dst, '"', ':')
		dst = append(dst, v...)
		return true
	})
	if !ok || person == "" {
		return dst[:start], "", false
	}
	return append(dst, '}'), person, true
}

// knownMember says whether name is a member of a Person's document holding a string or
// a date (null when zero).
func knownMember(name string) bool {
	switch name {
	case "person", "brn", "given_name", "family_name", "sex", "birth_date", "birth_place", "death_date",
		"mother", "father", "marital_status", "spouse", "nationality", "household":
		return true
	}
	return false
}

// appendDocAddress appends the address member of a document as appendAddress would.
func appendDocAddress(dst, v []byte, keep *exchange.Minimiser) ([]byte, bool) {
	var sub []string // the address fields kept; empty: all
	none := false    // none of it is kept
	if keep != nil {
		sub = keep.Keep([]byte("address"))
		none = sub == nil
	}
	start := len(dst)
	dst = append(dst, `,"address":{`...)
	n := 0
	ok := rawjson.EachPlainMember(v, func(name, v []byte) bool {
		switch string(name) {
		case "street", "house_number", "postal_code", "municipality", "region":
		default:
			return false
		}
		if len(v) < 2 || v[0] != '"' {
			return false
		}
		if none || string(v) == `""` || (len(sub) > 0 && !whole(exchange.Allowed(string(name), sub))) {
			return true
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, name...)
		dst = append(dst, '"', ':')
		dst = append(dst, v...)
		n++
		return true
	})
	if n == 0 {
		return dst[:start], ok
	}
	return append(dst, '}'), ok
}

// AppendRecord appends the record of p minimised to fields (nil: all) as JSON, its
// members in the order of Person's, without building Record's map.
func AppendRecord(dst []byte, p *population.Person, fields []string) []byte {
	dst = append(dst, `{"@type":`...)
	dst = rawjson.AppendString(dst, RecordType)
	put := func(k, v string) {
		if v != "" && (fields == nil || whole(exchange.Allowed(k, fields))) {
			dst = append(dst, ',')
			dst = rawjson.AppendString(dst, k)
			dst = append(dst, ':')
			dst = rawjson.AppendString(dst, v)
		}
	}
	put("person", p.Number)
	put("brn", p.BRN)
	put("given_name", p.GivenName)
	put("family_name", p.FamilyName)
	put("sex", p.Sex)
	put("birth_date", p.BirthDate.String())
	put("birth_place", p.BirthPlace)
	put("death_date", p.DeathDate.String())
	dst = appendAddress(dst, p, fields)
	put("mother", p.Mother)
	put("father", p.Father)
	put("marital_status", p.MaritalStatus)
	put("spouse", p.Spouse)
	put("nationality", p.Nationality)
	put("household", p.Household)
	return append(dst, '}')
}

// appendAddress appends the address member as record builds it, if any of it is kept.
func appendAddress(dst []byte, p *population.Person, fields []string) []byte {
	var sub []string // the address fields kept; empty: all
	if fields != nil {
		if sub = exchange.Allowed("address", fields); sub == nil {
			return dst
		}
	}
	a := p.Address
	start := len(dst)
	dst = append(dst, `,"address":{`...)
	n := 0
	for _, m := range [...]struct{ k, v string }{{"street", a.Street}, {"house_number", a.HouseNumber},
		{"postal_code", a.PostalCode}, {"municipality", a.Municipality}, {"region", a.Region}} {
		if m.v != "" && (len(sub) == 0 || whole(exchange.Allowed(m.k, sub))) {
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = rawjson.AppendString(dst, m.k)
			dst = append(dst, ':')
			dst = rawjson.AppendString(dst, m.v)
			n++
		}
	}
	if n == 0 {
		return dst[:start]
	}
	return append(dst, '}')
}
