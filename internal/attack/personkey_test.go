package attack_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// The person number encodes birth date and sex (YYMMDD, a sequence odd for men): an
// asker whose grant lacks `person` may name persons by number (eq, in: look-ups within
// its files) but not compare ranges of numbers or order by them, else a binary search
// on the count recovers the number of a person it knows by name (#13, F1).
func TestPersonNumberRangesNeedThePersonField(t *testing.T) {
	tg := start(t, nil)
	city := synth.CityPrefix + "R01"
	tok := tg.token(t, city)
	vis := tg.visible(t, city, synth.CapacityMember)
	if len(vis) < 3 {
		t.Fatalf("%s sees %d persons", city, len(vis))
	}
	mid := vis[len(vis)/2]
	for _, c := range []struct{ name, criteria string }{
		{"person le", byPredicate("", pred("family_name", "ge", "A"), pred("person", "le", mid))},
		{"person gt", byPredicate("", pred("person", "gt", mid))},
		{"person ge beside a granted condition", byPredicate("", pred("given_name", "ge", "A"), pred("person", "ge", mid))},
		{"sort by person", byPredicate(`{"attribute_name":"person","sort_order":"asc"}`, pred("family_name", "ge", "A"))},
	} {
		status, _, body := tg.dci(t, tok, search{criteria: c.criteria})
		if status != 403 || !strings.Contains(string(body), "person") || !strings.Contains(string(body), "not authorized") {
			t.Errorf("%s as %s (grant without person): %d %s; want 403 naming person not authorized", c.name, city, status, clip(body))
		}
	}
	// Naming persons by number stays allowed: a look-up within the asker's files.
	for _, c := range []struct{ name, criteria string }{
		{"person eq", byPredicate("", pred("person", "eq", mid))},
		{"person in", byPredicate("", `{"expression1":{"attribute_name":"person","operator":"in","attribute_value":["`+vis[0]+`","`+mid+`"]}}`)},
	} {
		status, _, body := tg.dci(t, tok, search{criteria: c.criteria})
		if status != 200 || decodeAnswer(t, body).Message.SearchResponse[0].Pagination.TotalCount == 0 {
			t.Errorf("%s as %s: %d %s; want 200 with the person", c.name, city, status, clip(body))
		}
	}
	// A grant with person may compare and order by it.
	status, _, body := tg.dci(t, tg.token(t, synth.PensionFund), search{criteria: byPredicate(`{"attribute_name":"person","sort_order":"desc"}`, pred("person", "le", mid))})
	if status != 200 {
		t.Errorf("the pension fund (grant with person) filters person le: %d %s; want 200", status, clip(body))
	}
}

// Records answered to a grant without `person` are not in person-number order, which
// would tell their birth order: they come in an order of their own (a hash of the
// number), whatever the filter.
func TestRecordsWithoutPersonAreNotInBirthOrder(t *testing.T) {
	tg := start(t, nil)
	city := synth.CityPrefix + "R01"
	vis := tg.visible(t, city, synth.CapacityMember)
	ctx := context.Background()
	var ps []population.Person
	for _, n := range vis[:min(len(vis), 100)] {
		p, err := tg.st.Civil.Population().Person(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	in := `{"expression1":{"attribute_name":"person","operator":"in","attribute_value":["` + strings.Join(vis[:min(len(vis), 100)], `","`) + `"]}}`
	status, _, body := tg.dci(t, tg.token(t, city), search{criteria: byPredicate("", in)})
	if status != 200 {
		t.Fatalf("%d %s", status, clip(body))
	}
	recs := decodeAnswer(t, body).records(t)
	if len(recs) < 20 {
		t.Fatalf("%d records", len(recs))
	}
	// The records carry no person number; find each by its name and address.
	key := func(given, family, street, house any) string {
		return strings.Join([]string{given.(string), family.(string), street.(string), house.(string)}, "|")
	}
	number := map[string]string{}
	for _, p := range ps {
		number[key(p.GivenName, p.FamilyName, p.Address.Street, p.Address.HouseNumber)] = p.Number
	}
	var order []string
	for _, r := range recs {
		if _, ok := r["person"]; ok {
			t.Fatalf("a record of the city carries a person number: %v", r)
		}
		a, _ := r["address"].(map[string]any)
		if n, ok := number[key(r["given_name"], r["family_name"], a["street"], a["house_number"])]; ok {
			order = append(order, n)
		}
	}
	if len(order) < 20 {
		t.Fatalf("only %d of %d records found again by name and address", len(order), len(recs))
	}
	if slices.IsSorted(order) {
		t.Errorf("the city's %d records come in person-number order (birth order): %v", len(order), order)
	}
}
