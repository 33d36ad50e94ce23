package rightsfacts

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/rights"
)

// entries keeps what the door seals (the audit log's side is tested in internal/audit).
type entries struct {
	mu  sync.Mutex
	all []exchange.Entry
}

func (e *entries) Record(ctx context.Context, x exchange.Entry) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, x)
	return int64(len(e.all)), nil
}

// TestDoorAuthorizesEachRuleAndRecordsThePersons: a rule is read only under an
// authorization of its institution for its purpose and fields; the others are refused
// (and decide nothing); every read names its persons, a record a thousand at most.
func TestDoorAuthorizesEachRuleAndRecordsThePersons(t *testing.T) {
	cat := rights.DemoCatalogue()
	ige := cat.Rule("income-guarantee-elderly")
	var auths []directory.Authorization
	for _, s := range ige.Sources() {
		auths = append(auths, directory.Authorization{ID: "A-" + s, Institution: "PENSION-FUND", Service: s, Fields: Fields(ige, s),
			Purpose: Purpose(ige.ID), ValidFrom: date.Of(2020, 1, 1)})
	}
	// A grant for another purpose does not open the income guarantee's reads.
	auths = append(auths, directory.Authorization{ID: "A-other", Institution: "SOCIAL-REGISTRY", Service: rights.SourceCivil,
		Fields: []string{"birth_date"}, Purpose: "Something else", ValidFrom: date.Of(2020, 1, 1)})
	rec := &entries{}
	now := func() time.Time { return time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC) }
	d := &Door{Exchange: exchange.New(exchange.NewPolicy(auths, directory.NewIndex()), nil, rec, now), Now: now}
	refused, plan := d.authorize(cat, date.Of(2026, 12, 7))
	if refused[ige.ID] != nil || len(refused) != len(cat.Rules())-1 {
		t.Fatalf("refused = %v; want every rule but the income guarantee", refused)
	}
	if err := refused["social-energy-tariff"]; err == nil || !strings.Contains(err.Error(), "SOCIAL-REGISTRY may not read") {
		t.Errorf("refusal = %v; want the institution and source named", err)
	}
	var persons []string
	for i := range 1500 {
		persons = append(persons, "p"+strings.Repeat("0", 4-len(itoa(i)))+itoa(i))
	}
	if err := d.record(context.Background(), plan, persons, date.Of(2026, 12, 7)); err != nil {
		t.Fatal(err)
	}
	named := map[string]map[string]int{} // decision → person → records
	for _, e := range rec.all {
		if len(e.Persons) > exchange.MaxAuditPersons {
			t.Errorf("a record names %d persons", len(e.Persons))
		}
		if e.Client != Client {
			t.Errorf("record by %q; want %q", e.Client, Client)
		}
		if e.Decision == "permit" && (e.Institution != "PENSION-FUND" || e.Purpose != "right:income-guarantee-elderly" ||
			e.Service != rights.SourceCivil+"+"+rights.SourceSocial) {
			t.Errorf("a permitted read by %s of %s for %s", e.Institution, e.Service, e.Purpose)
		}
		if named[e.Decision] == nil {
			named[e.Decision] = map[string]int{}
		}
		for _, p := range e.Persons {
			named[e.Decision][p]++
		}
	}
	for _, p := range []string{persons[0], persons[999], persons[1000], persons[1499]} {
		if named["permit"][p] != 1 {
			t.Errorf("%s is named in %d permitted reads; want 1 (one an institution)", p, named["permit"][p])
		}
		if named["deny"][p] == 0 {
			t.Errorf("%s is named in no refused read", p)
		}
	}
	if !slices.ContainsFunc(rec.all, func(e exchange.Entry) bool { return e.Decision == "deny" && e.Institution == "SOCIAL-REGISTRY" }) {
		t.Errorf("the social registry's refused reads are not recorded")
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}
