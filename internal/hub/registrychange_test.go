package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/derived"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/synth"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// filesOf returns a person's files in force today: capacity by institution.
func filesOf(t *testing.T, r *running, person string) map[string]string {
	t.Helper()
	d := r.st.Directory
	gs, err := d.Store().Files(context.Background(), person, d.Today())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, g := range gs {
		out[g.Institution] = g.Capacity
	}
	return out
}

// fileHolder returns the nth living person (from 0) on whom inst holds a file in
// capacity (any when ""), about whom no change was declared to the derived registries,
// and for whom ok holds. Tests of one package share their nation: each picks its own
// persons, and a test run again (-count) picks others.
func fileHolder(t *testing.T, r *running, inst, capacity string, nth int, ok func(person string) bool) string {
	t.Helper()
	d := r.st.Directory
	page, err := d.Store().Integrations(context.Background(), directory.IntegrationQuery{Institution: inst, Day: d.Today(), Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range page {
		if capacity != "" && g.Capacity != capacity {
			continue
		}
		p, err := r.st.Civil.Population().Person(context.Background(), g.Person)
		if err == nil && p.DeathDate.IsZero() && p.RegistryChanges == 0 && (ok == nil || ok(g.Person)) {
			if nth == 0 {
				return g.Person
			}
			nth--
		}
	}
	t.Fatalf("no living person with a file of %s in capacity %q", inst, capacity)
	return ""
}

// TestRegistryChanges: changes declared to the derived registries through
// POST /admin/registries/{registry}/events are checked field by field, refused when they
// contradict what the registry holds, and change its answers from their date on.
func TestRegistryChanges(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	today := r.st.Directory.Today()
	worker := fileHolder(t, r, synth.EmploymentService, synth.CapacityJobseeker, 0, nil)
	pensioner := fileHolder(t, r, synth.PensionFund, synth.CapacityPensioner, 0, func(p string) bool { return filesOf(t, r, p)[synth.HealthInsurer1] != "" })
	const employer = "0200000142"
	day := today.String()
	change := func(typ, person, facts string) string {
		return fmt.Sprintf(`{"type":%q,"person":%q,"date":%q%s}`, typ, person, day, facts)
	}
	domains := `"functional_domains":{"seeing":"no difficulty","hearing":"no difficulty","walking":"cannot do at all","cognition":"no difficulty","self_care":"a lot of difficulty","communication":"no difficulty"}`
	tests := []struct {
		name, registry, body string
		status               int
		want                 string
	}{
		{"an unknown registry", "bank", change("income", worker, `,"monthly_income":1`), 404, "no built-in registry"},
		{"the farmer registry takes none", "farmer", change("income", worker, `,"monthly_income":1`), 400, `"field": "type"`},
		{"a change of another registry", "disability", change("income", worker, `,"monthly_income":1`), 400, `"field": "type"`},
		{"a bad enterprise number", "social", change("employment_start", worker, `,"employer":"0200000143"`), 400, `"field": "employer"`},
		{"an income without amount", "social", change("income", worker, ``), 400, `"field": "monthly_income"`},
		{"a negative income", "social", change("income", worker, `,"monthly_income":-5`), 400, `"field": "monthly_income"`},
		{"an income with an employer", "social", change("income", worker, `,"monthly_income":5,"employer":"`+employer+`"`), 400, `"field": "employer"`},
		{"a future date", "social", `{"type":"income","person":"` + worker + `","date":"2999-01-01","monthly_income":1}`, 400, `"field": "date"`},
		{"not a person number", "social", change("income", "123", `,"monthly_income":1`), 400, `"field": "person"`},
		{"an unknown field", "social", change("income", worker, `,"monthly_income":1,"bonus":2`), 400, "bonus"},
		{"the end of an employment never declared", "social", change("employment_end", worker, `,"employer":"`+employer+`"`), 409, `"field": "employer"`},
		{"a hire", "social", change("employment_start", worker, `,"employer":"`+employer+`"`), 201, `"type": "employment_start"`},
		{"the same hire again", "social", change("employment_start", worker, `,"employer":"`+employer+`"`), 409, "since"},
		{"an income", "social", change("income", worker, `,"monthly_income":4321`), 201, `"type": "income"`},
		{"an assessment missing a domain", "disability", change("disability", pensioner, `,"functional_domains":{"seeing":"no difficulty"}`), 400, `"field": "functional_domains.hearing"`},
		{"an unknown level", "disability", change("disability", pensioner, `,"functional_domains":{"seeing":"blind"}`), 400, `"field": "functional_domains.seeing"`},
		{"an assessment", "disability", change("disability", pensioner, ","+domains), 201, `"type": "disability"`},
		{"an unknown programme", "beneficiary", change("enrolment", pensioner, `,"programme":"lottery","status":"active","monthly_amount":1`), 400, `"field": "programme"`},
		{"an enrolment without amount", "beneficiary", change("enrolment", pensioner, `,"programme":"disability-allowance","status":"active"`), 400, `"field": "monthly_amount"`},
		{"the end of a programme not followed", "beneficiary", change("enrolment", pensioner, `,"programme":"child-benefit","status":"ended"`), 409, `"field": "programme"`},
		{"an enrolment", "beneficiary", change("enrolment", pensioner, `,"programme":"disability-allowance","status":"active","monthly_amount":250`), 201, `"type": "enrolment"`},
		{"the end of the old-age pension", "beneficiary", change("enrolment", pensioner, `,"programme":"old-age-pension","status":"ended"`), 201, `"type": "enrolment"`},
	}
	for _, tt := range tests {
		status, b := post(t, r.url+"/admin/registries/"+tt.registry+"/events", r.admin, tt.body)
		if status != tt.status || !strings.Contains(string(b), tt.want) {
			t.Errorf("%s: %d %s; want %d with %s", tt.name, status, b, tt.status, tt.want)
		}
	}
	if status, _ := post(t, r.url+"/admin/registries/social/events", "", change("income", worker, `,"monthly_income":1`)); status != 401 {
		t.Errorf("without a token: %d, want 401", status)
	}

	// The registries answer with what was declared.
	ctx := context.Background()
	src := registry(t, r, "social")
	rec, err := src.Record(ctx, worker, today)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rec)
	for _, w := range []string{`"employment_status":"employed"`, `"employer":"` + employer + `"`, `"since":"` + day + `"`} {
		if !strings.Contains(string(b), w) {
			t.Errorf("the social record after a hire lacks %s: %s", w, b)
		}
	}
	if before, _ := src.Record(ctx, worker, today.AddDays(-1)); before["employment_status"] != nil {
		t.Errorf("the hire shows before its date: %v", before["employment_status"])
	}
	if hh := rec["household"].(map[string]any); hh["size"] == 1 && hh["monthly_income"] != 4321 {
		t.Errorf("a household of one with a declared income of 4321: %v", hh["monthly_income"])
	}
	status, _ := post(t, r.url+"/admin/registries/social/events", r.admin, change("employment_end", worker, `,"employer":"`+employer+`"`))
	if rec, _ := src.Record(ctx, worker, today); status != 201 || rec["employment_status"] != "unemployed" || len(rec["employment"].([]any)) != 0 {
		t.Errorf("after the end of the employment (%d): %v %v", status, rec["employment_status"], rec["employment"])
	}
	dr, _ := registry(t, r, "disability").Record(ctx, pensioner, today)
	if dr["severity"] != "severe" || dr["disabled"] != true || dr["assessment_date"] != day {
		t.Errorf("the disability record after an assessment: %v", dr)
	}
	ibr, _ := registry(t, r, "beneficiary").Record(ctx, pensioner, today)
	b, _ = json.Marshal(ibr["programmes"])
	for _, w := range []string{`"programme":"disability-allowance","status":"active"`, `"monthly_amount":250`, `"ended_on":"` + day + `"`} {
		if !strings.Contains(string(b), w) {
			t.Errorf("the programmes after an enrolment and an end lack %s: %s", w, b)
		}
	}
	if strings.Contains(string(b), `"old-age-pension","status":"active"`) {
		t.Errorf("the ended pension is still active: %s", b)
	}
}

// TestRegistryMutationScenario is issue #5's scenario for the changes the derived
// registries and the civil register's households record: a hire reaches the employment
// service that holds the jobseeker's file, with the employment and nothing else; an
// assessment reaches the pension fund and the health insurer; an enrolment the pension
// fund; an income and a change of household the child-benefit fund of a parent; a museum
// subscribed to all of them, with no file and no authorization, hears nothing.
func TestRegistryMutationScenario(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx := context.Background()
	d := r.st.Directory
	today := d.Today()
	jobseeker := fileHolder(t, r, synth.EmploymentService, synth.CapacityJobseeker, 1, nil)
	pensioner := fileHolder(t, r, synth.PensionFund, synth.CapacityPensioner, 1, func(p string) bool { return filesOf(t, r, p)[synth.HealthInsurer1] != "" })
	var fund string
	for _, dir := range []string{"NORTH", "SOUTH", "EAST", "WEST"} {
		page, _ := d.Store().Integrations(ctx, directory.IntegrationQuery{Institution: synth.ChildBenefitPrefix + dir, Day: today, Limit: 1})
		if len(page) > 0 {
			fund = synth.ChildBenefitPrefix + dir
			break
		}
	}
	parent := fileHolder(t, r, fund, synth.CapacityParent, 1, nil)
	inboxes := inboxesFor(t, r, []string{"employment_start", "employment_end", "income", "disability", "enrolment", "household"},
		synth.EmploymentService, synth.PensionFund, synth.HealthInsurer1, fund, synth.Museum)

	day := today.String()
	declare := func(registry, body string) {
		t.Helper()
		if status, b := post(t, r.url+"/admin/"+registry+"/events", r.admin, body); status != 201 {
			t.Fatalf("declare %s: %d %s", body, status, b)
		}
	}
	declare("registries/social", `{"type":"employment_start","person":"`+jobseeker+`","date":"`+day+`","employer":"0200000142"}`)
	declare("registries/disability", `{"type":"disability","person":"`+pensioner+`","date":"`+day+`","functional_domains":{"seeing":"some difficulty","hearing":"no difficulty","walking":"a lot of difficulty","cognition":"no difficulty","self_care":"no difficulty","communication":"no difficulty"}}`)
	declare("registries/beneficiary", `{"type":"enrolment","person":"`+pensioner+`","date":"`+day+`","programme":"disability-allowance","status":"active","monthly_amount":180}`)
	declare("registries/social", `{"type":"income","person":"`+parent+`","date":"`+day+`","monthly_income":2750}`)
	declare("civil", `{"type":"household","person":"`+parent+`","date":"`+day+`","household":"HNEW1"}`)

	expect := []struct {
		inst, person, event, spec string
		want, not                 []string
	}{
		{synth.EmploymentService, jobseeker, "employment_start", "social_api_v1.0.0.yaml",
			[]string{`"employment_status":"employed"`, `"employer":"0200000142"`, `RegistryType:Social"`, `"reg_event_type":"REGISTER"`}, []string{"household", "poverty_score", "birth_date"}},
		{synth.PensionFund, pensioner, "disability", "dr_api_v1.0.0.yaml", []string{`"walking":"a lot of difficulty"`, `"severity":"moderate"`, `"assessment_date"`}, nil},
		{synth.HealthInsurer1, pensioner, "disability", "dr_api_v1.0.0.yaml", []string{`"disabled":true`}, nil},
		{synth.PensionFund, pensioner, "enrolment", "ibr_api_v1.0.0.yaml", []string{`"disability-allowance"`, `"monthly_amount":180`, `"reg_event_type":"enrollement"`}, nil},
		{fund, parent, "income", "social_api_v1.0.0.yaml", []string{`"monthly_income"`}, []string{"employment"}},
		{fund, parent, "household", "crvs_api_v1.0.0.yaml", []string{`"household":"HNEW1"`}, []string{"nationality"}},
	}
	for _, x := range expect {
		ev := inboxes[x.inst].waitForEvent(x.person, x.event, 10*time.Second)
		if ev == nil {
			t.Errorf("%s was not notified of the %s of %s", x.inst, x.event, x.person)
			continue
		}
		for _, w := range x.want {
			if !strings.Contains(ev.Raw, w) {
				t.Errorf("%s's %s event lacks %s: %s", x.inst, x.event, w, ev.Raw)
			}
		}
		for _, n := range x.not {
			if strings.Contains(ev.Raw, n) {
				t.Errorf("%s's %s event carries %s, outside its authorization: %s", x.inst, x.event, n, ev.Raw)
			}
		}
		checkHubSignature(t, r.url, []byte(ev.message))
		validateNotifyAgainst(t, x.spec, []byte(alone(t, ev.message, ev.notified)))
	}
	// Nobody without a file: the museum; nor the employment service of the pensioner.
	if ev := inboxes[synth.Museum].waitForEvent("", "", 300*time.Millisecond); ev != nil {
		t.Errorf("the museum was notified: %s", ev.Raw)
	}
	if ev := inboxes[synth.EmploymentService].waitForEvent(pensioner, "", 100*time.Millisecond); ev != nil && filesOf(t, r, pensioner)[synth.EmploymentService] == "" {
		t.Errorf("the employment service, without a file on %s, was notified: %s", pensioner, ev.Raw)
	}
	if p, _ := r.st.Civil.Population().Person(ctx, parent); p.Household != "HNEW1" {
		t.Errorf("the change of household was not recorded: %q", p.Household)
	}
	evs, _ := r.st.Civil.Population().Events(ctx, parent)
	if last := evs[len(evs)-1]; last.Type != population.EventHousehold || string(last.Data) != `{"household":"HNEW1"}` {
		t.Errorf("the household event: %+v", last)
	}
}

// inboxesFor points the push subscription sub-<institution> of each institution at an inbox
// of its own (creating it, for types, when the nation has none), waits until the hub
// has reloaded them, and returns the inboxes.
func inboxesFor(t *testing.T, r *running, types []string, institutions ...string) map[string]*inbox {
	t.Helper()
	ctx, d := context.Background(), r.st.Directory
	inboxes := map[string]*inbox{}
	for _, inst := range institutions {
		b := &inbox{}
		srv := httptest.NewServer(b)
		t.Cleanup(srv.Close)
		b.url = srv.URL + "/notify"
		inboxes[inst] = b
		sub := directory.Subscription{ID: "sub-" + strings.ToLower(inst), Institution: inst, EventTypes: types,
			Mode: directory.ModePush, Endpoint: srv.URL + "/notify"}
		if old, _, err := directory.Get[directory.Subscription](ctx, d, sub.ID); err == nil {
			sub = old
			sub.Endpoint, sub.Mode, sub.Status = srv.URL+"/notify", directory.ModePush, ""
		}
		if _, _, err := directory.Put(ctx, d, "test", sub, directory.AnyVersion); err != nil {
			t.Fatal(err)
		}
	}
	for inst, b := range inboxes {
		waitPushing(t, r, "sub-"+strings.ToLower(inst), b.url)
	}
	return inboxes
}

// received is an event as an inbox got it, with the message that carried it, cut down
// to this event (a batch may hold events of several registries).
type received struct {
	notified
	message string
}

// alone returns message with ev as its only event.
func alone(t *testing.T, message string, ev notified) string {
	var env map[string]json.RawMessage
	var msg map[string]any
	if json.Unmarshal([]byte(message), &env) != nil || json.Unmarshal(env["message"], &msg) != nil {
		t.Fatalf("not a notify: %s", message)
	}
	msg["notify_event"] = []json.RawMessage{json.RawMessage(ev.Raw)}
	env["message"], _ = json.Marshal(msg)
	b, _ := json.Marshal(env)
	return string(b)
}

// waitForEvent returns the first event about person ("": any) of type event ("": any),
// within d, or nil.
func (b *inbox) waitForEvent(person, event string, d time.Duration) *received {
	var found *received
	_ = testwait.Until(d, func() error {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, m := range b.got {
			for _, ev := range notifyEvents([]byte(m)) {
				if (person == "" || ev.Person == person) && (event == "" || strings.Contains(ev.Raw, `"event_type":"`+event+`"`)) {
					found = &received{ev, m}
					return nil
				}
			}
		}
		return errNotYet
	})
	return found
}

// registry is the built-in derived registry kind of the hub r runs.
func registry(t *testing.T, r *running, kind string) *derived.Source {
	t.Helper()
	return &derived.Source{Kind: kind, Store: r.st.Civil.Population(), Searcher: r.st.Civil.Searcher()}
}
