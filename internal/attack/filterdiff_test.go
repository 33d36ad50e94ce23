package attack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/crossroads-hub/crossroads/internal/civil"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/query"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// TestFilterDifferential: for random filters, orders and pages from random askers, the
// hub's answer (status, count, records) equals the answer computed over the asker's
// visible persons alone, minimised to its grant — as if no other person existed.
func TestFilterDifferential(t *testing.T) {
	t.Parallel()
	tg := start(t, nil)
	ctx := context.Background()
	var everyone []population.Person
	for q := (population.Query{Limit: 1000}); ; {
		page, err := tg.st.Civil.Population().Persons(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		everyone = append(everyone, page...)
		if len(page) < q.Limit {
			break
		}
		q.After = page[len(page)-1].Number
	}
	type asker struct {
		institution string
		token       string
		fields      []string
		visible     []population.Person
	}
	var askers []asker
	for _, inst := range []string{synth.PensionFund, synth.CityPrefix + "R01", synth.HealthInsurer1, synth.EmploymentService} {
		a := tg.authorizationOf(t, inst, synth.CivilPerson)
		var vis []population.Person
		for _, p := range everyone {
			for _, f := range tg.st.Directory.Index().Files(p.Number, today()) {
				if f.Institution == inst && slices.Contains(a.Capacities, f.Capacity) {
					vis = append(vis, p)
					break
				}
			}
		}
		askers = append(askers, asker{inst, tg.token(t, inst), a.Fields, vis})
	}
	// Values drawn from the register, so that conditions match someone.
	values := map[string][]string{}
	for _, attr := range population.Attrs {
		for i := 0; i < len(everyone); i += 97 {
			if v, ok := population.Attr(&everyone[i], attr); ok {
				values[attr] = append(values[attr], v)
			}
		}
		values[attr] = append(values[attr], "zzz")
	}
	rapid.Check(t, func(rt *rapid.T) {
		a := rapid.SampledFrom(askers).Draw(rt, "asker")
		cond := drawCond(rt, values, 2)
		var sort []query.SortKey
		if rapid.Bool().Draw(rt, "sorted") {
			sort = []query.SortKey{{Attr: rapid.SampledFrom(population.Attrs).Draw(rt, "sort"), Desc: rapid.Bool().Draw(rt, "desc")}}
		}
		q := query.Query{Kind: query.KindFilter, Filter: cond, Sort: sort, Page: rapid.IntRange(1, 3).Draw(rt, "page"), PageSize: rapid.IntRange(1, 40).Draw(rt, "size")}
		status, _, body := tg.dci(t, a.token, search{criteria: criteriaOf(q)})

		if exchange.Ungranted(q, a.fields) != "" {
			if status != 403 {
				rt.Fatalf("%s filters %s sorted %v outside its grant %v: %d %s; want 403", a.institution, cond, sort, a.fields, status, clip(body))
			}
			return
		}
		var matches []population.Person
		for _, p := range a.visible {
			if cond.Eval(func(attr string) (string, bool) { return population.Attr(&p, attr) }) {
				matches = append(matches, p)
			}
		}
		total := len(matches)
		var want []map[string]any
		if !exchange.Covers(a.fields, "person") {
			q.Opaque = a.institution // records not in birth order (exchange.Search)
		}
		for _, p := range population.Page(matches, q) {
			r, _ := civil.Record(&p)
			want = append(want, roundTrip(exchange.Minimise(r, a.fields)))
		}
		if status != 200 {
			rt.Fatalf("%s filters %s: %d %s; want 200", a.institution, cond, status, clip(body))
		}
		ans := decodeAnswer(t, body)
		got := ans.records(t)
		if n := ans.Message.SearchResponse[0].Pagination.TotalCount; n != total || !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			rt.Fatalf("%s filters %s sorted %v page %d/%d: total %d, %d records; want %d, %d records\ngot  %v\nwant %v",
				a.institution, cond, sort, q.Page, q.PageSize, n, len(got), total, len(want), got, want)
		}
	})
}

// drawCond draws a filter over the register's attributes, nested at most depth deep.
func drawCond(rt *rapid.T, values map[string][]string, depth int) *query.Cond {
	if depth > 0 && rapid.IntRange(0, 3).Draw(rt, "logical") == 0 {
		op := rapid.SampledFrom([]string{query.And, query.Or, query.Not}).Draw(rt, "op")
		n := 1
		if op != query.Not {
			n = rapid.IntRange(1, 3).Draw(rt, "args")
		}
		c := &query.Cond{Op: op}
		for range n {
			c.Args = append(c.Args, drawCond(rt, values, depth-1))
		}
		return c
	}
	attr := rapid.SampledFrom(population.Attrs).Draw(rt, "attr")
	op := rapid.SampledFrom([]string{query.Eq, query.Lt, query.Le, query.Gt, query.Ge, query.In}).Draw(rt, "cmp")
	v := rapid.SampledFrom(values[attr]).Draw(rt, "value")
	if op == query.In {
		return &query.Cond{Op: op, Attr: attr, Value: []string{v, rapid.SampledFrom(values[attr]).Draw(rt, "value2")}}
	}
	return &query.Cond{Op: op, Attr: attr, Value: v}
}

// criteriaOf writes q as DCI search criteria of query_type expression.
func criteriaOf(q query.Query) string {
	var sort []map[string]string
	for _, k := range q.Sort {
		order := "asc"
		if k.Desc {
			order = "desc"
		}
		sort = append(sort, map[string]string{"attribute_name": k.Attr, "sort_order": order})
	}
	c := map[string]any{"query_type": "expression", "query": map[string]any{"expression": map[string]any{"collection": "Person", "query": expr(q.Filter)}},
		"pagination": map[string]int{"page_size": q.PageSize, "page_number": q.Page}}
	if sort != nil {
		c["sort"] = sort
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// expr writes a condition in the hub's expression dialect.
func expr(c *query.Cond) any {
	switch c.Op {
	case query.And, query.Or:
		var args []any
		for _, a := range c.Args {
			args = append(args, expr(a))
		}
		return map[string]any{"$" + c.Op: args}
	case query.Not:
		return map[string]any{"$not": expr(c.Args[0])}
	}
	return map[string]any{c.Attr: map[string]any{"$" + c.Op: c.Value}}
}

// roundTrip makes a record compare equal to its JSON decoding.
func roundTrip(m map[string]any) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprint(err))
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}
