package hub_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// TestSocialRiskChannel: a payroll office declares a worker's incapacity for the
// employer that mandated it; the declaration is routed to the health insurer the
// directory names competent, becomes the social registry's social_risk event pushed to
// the institution with a file on the worker, is listed to the insurer and acknowledged
// by it, and the status is visible to the declarer. Attacks: a payroll office without
// the employer's mandate, another institution reading or acknowledging the declaration,
// a worker without a relation, a second acknowledgement; every attempt is in the audit
// log under the worker's number.
func TestSocialRiskChannel(t *testing.T) {
	r := startHub(t, false)
	today := r.st.Directory.Today()
	// A worker insured with another health insurer than the one the directory's service
	// names: the declaration must reach the worker's own (an outsider's finding).
	worker := fileHolder(t, r, synth.EmploymentService, synth.CapacityJobseeker, 3, func(p string) bool {
		ins := insurersOf(t, r, p, today)
		return len(ins) == 1 && ins[0] != synth.HealthInsurer1
	})
	own := insurersOf(t, r, worker, today)[0]
	notWorker := func(p string) bool { return p != worker }
	stranger := fileHolder(t, r, synth.EmploymentService, synth.CapacityJobseeker, 4, notWorker)
	uninsured := fileHolder(t, r, synth.EmploymentService, synth.CapacityJobseeker, 5, func(p string) bool {
		return p != worker && p != stranger && len(insurersOf(t, r, p, today)) > 0
	})
	// The nation's subscription of the employment service, which inboxesFor keeps,
	// hears of social risks too.
	ctx := context.Background()
	sub, _, err := directory.Get[directory.Subscription](ctx, r.st.Directory, "sub-"+strings.ToLower(synth.EmploymentService))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(sub.EventTypes, "social_risk") {
		sub.EventTypes = append(sub.EventTypes, "social_risk")
		if _, _, err := directory.Put(ctx, r.st.Directory, "test", sub, directory.AnyVersion); err != nil {
			t.Fatal(err)
		}
	}
	inboxes := inboxesFor(t, r, []string{"social_risk"}, synth.EmploymentService)
	tok := payroll(t, r, "PAYROLL-R", "declaration.submit")
	for _, p := range []string{worker, uninsured} {
		hire := `{"kind":"hire","person":"` + p + `","employer":"` + fixtureEnterprise + `","start":"` + today.AddDays(-60).String() +
			`","contract":"permanent","fraction":1,"sector":"200"}`
		if status, b := post(t, r.url+"/declarations", tok, hire); status != http.StatusCreated {
			t.Fatalf("hire: %d %s", status, b)
		}
	}
	// The uninsured worker's health-insurance file ended before the risk.
	var ends []directory.Line
	for _, f := range mustFiles(t, r, uninsured, today) {
		if slices.Contains(insurersOf(t, r, uninsured, today), f.Institution) {
			f.End = today.AddDays(-30)
			ends = append(ends, directory.Line{Action: directory.ActionEnd, Integration: f})
		}
	}
	if rep, err := r.st.Directory.Integrate(ctx, "test", ends, directory.Atomic); err != nil || len(ends) == 0 || rep.Applied != len(ends) {
		t.Fatalf("end the uninsured worker's insurance (%d files): %+v %v", len(ends), rep, err)
	}
	day := today.AddDays(-2)
	from := employment.QuarterOf(day.AddDays(-1)).Start() // the mini-declaration: the quarter so far
	risk := func(person string) string {
		return `{"risk":"incapacity","phase":"start","person":"` + person + `","employer":"` + fixtureEnterprise + `","day":"` + day.String() +
			`","cause":"illness","expected_end":"` + today.AddDays(10).String() + `","wages":{"from":"` + from.String() + `","to":"` +
			day.AddDays(-1).String() + `","wages":120000,"bonus":0,"days":1,"hours":7.6}}`
	}
	status, b := post(t, r.url+"/declarations/risks", tok, risk(worker))
	if status != http.StatusCreated {
		t.Fatalf("declare: %d %s", status, b)
	}
	// The same start sent again opens no second case (an outsider's finding).
	if status, b := post(t, r.url+"/declarations/risks", tok, risk(worker)); status != http.StatusConflict || !strings.Contains(string(b), "received already") {
		t.Errorf("the same start again: %d %s; want 409, received already", status, b)
	}
	var d struct {
		ID          int64  `json:"id"`
		Institution string `json:"institution"`
		Status      string `json:"status"`
		Event       int64  `json:"event"`
		AckRef      string `json:"acknowledged_ref"`
	}
	if err := json.Unmarshal(b, &d); err != nil || d.ID == 0 || d.Institution != own || d.Status != "submitted" || d.Event == 0 {
		t.Fatalf("declared %s (%v): want an id, routed to the worker's own insurer %s, submitted, an event", b, err, own)
	}
	if ev := inboxes[synth.EmploymentService].waitForEvent(worker, "social_risk", 10*time.Second); ev == nil {
		t.Error("the institution with a file on the worker was not notified of the social risk")
	}
	id := itoa(d.ID)

	// Attacks on the declaration: no mandate, no relation, a bad check digit, a risk
	// without its wages.
	other := payroll(t, r, "PAYROLL-X", "declaration.submit") // mandated by the fixture employer too
	unmandated := strings.Replace(risk(worker), fixtureEnterprise, "0200000142", 1)
	for name, c := range map[string]struct {
		tok, body string
		want      int
	}{
		"no mandate":     {tok, unmandated, http.StatusForbidden},
		"no insurer":     {tok, risk(uninsured), http.StatusBadRequest},
		"no relation":    {tok, risk(stranger), http.StatusBadRequest},
		"bad digit":      {tok, risk(worker[:10] + string('0'+(worker[10]-'0'+1)%10)), http.StatusBadRequest},
		"no wages":       {tok, strings.Split(risk(worker), `,"wages"`)[0] + "}", http.StatusBadRequest},
		"set by source":  {tok, strings.Replace(risk(worker), `{"risk"`, `{"status":"acknowledged","risk"`, 1), http.StatusBadRequest},
		"unknown member": {tok, strings.Replace(risk(worker), `{"risk"`, `{"salary":1,"risk"`, 1), http.StatusBadRequest},
		"no scope":       {r.token(t, synth.PensionFund), risk(worker), http.StatusForbidden},
	} {
		status, b := post(t, r.url+"/declarations/risks", c.tok, c.body)
		if status != c.want && !(c.want == http.StatusForbidden && status == http.StatusUnauthorized) {
			t.Errorf("%s: %d %s; want %d", name, status, b, c.want)
		}
	}

	// The insurer lists what was routed to it; others see nothing of it.
	insurer := r.tokenWithScope(t, own, "declaration.receive")
	// The insurer the directory's service names is not the worker's: it sees nothing.
	intruder := r.tokenWithScope(t, synth.HealthInsurer1, "declaration.receive")
	status, b = get(t, r.url+"/declarations/risks?status=submitted", insurer)
	if status != 200 || !strings.Contains(string(b), `"id":`+id+`,`) {
		t.Fatalf("the insurer's inbox: %d %s; want declaration %s", status, b, id)
	}
	if status, b := get(t, r.url+"/declarations/risks?status=submitted", intruder); status != 200 || strings.Contains(string(b), worker) {
		t.Errorf("another insurer's inbox: %d %s; want empty", status, b)
	}
	if status, _ := get(t, r.url+"/declarations/risks/"+id, intruder); status != http.StatusNotFound {
		t.Errorf("another insurer reads the declaration: %d; want 404", status)
	}
	if status, _ := post(t, r.url+"/declarations/risks/"+id+"/ack", intruder, `{"reference":"X"}`); status != http.StatusNotFound {
		t.Errorf("another insurer acknowledges: %d; want 404", status)
	}
	if status, _ := post(t, r.url+"/declarations/risks/"+id+"/ack", tok, `{}`); status != http.StatusForbidden && status != http.StatusUnauthorized {
		t.Errorf("the declarer acknowledges its own: %d; want refused (scope)", status)
	}
	status, b = post(t, r.url+"/declarations/risks/"+id+"/ack", insurer, `{"reference":"MM-2026-1"}`)
	if status != 200 || !strings.Contains(string(b), `"status":"acknowledged"`) {
		t.Fatalf("ack: %d %s", status, b)
	}
	if status, _ := post(t, r.url+"/declarations/risks/"+id+"/ack", insurer, `{}`); status != http.StatusConflict {
		t.Errorf("a second ack: %d; want 409", status)
	}
	// The declarer, and any office the employer mandates, sees the status.
	status, b = get(t, r.url+"/declarations/risks/"+id, tok)
	if status != 200 || json.Unmarshal(b, &d) != nil || d.Status != "acknowledged" || d.AckRef != "MM-2026-1" {
		t.Errorf("status to the declarer: %d %s", status, b)
	}
	if status, _ := get(t, r.url+"/declarations/risks/"+id, other); status != 200 {
		t.Errorf("status to another office of the employer: %d; want 200", status)
	}

	// An end closes the case; nothing follows it.
	end := `{"risk":"incapacity","phase":"end","case":` + id + `,"person":"` + worker + `","employer":"` + fixtureEnterprise + `","day":"` + today.String() + `"}`
	if status, b := post(t, r.url+"/declarations/risks", tok, end); status != http.StatusCreated {
		t.Errorf("end: %d %s", status, b)
	}
	if status, _ := post(t, r.url+"/declarations/risks", tok, end); status != http.StatusConflict {
		t.Errorf("a second end: %d; want 409", status)
	}

	status, b = get(t, r.url+"/audit/persons/"+worker+"/exchanges", r.admin)
	if status != 200 {
		t.Fatalf("audit by person: %d %s", status, b)
	}
	var page struct {
		Items []struct{ Institution, Purpose, Decision string } `json:"items"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, it := range page.Items {
		seen[it.Institution+" "+it.Purpose+" "+it.Decision] = true
	}
	for _, want := range []string{"PAYROLL-R declaration.risk.start permit", "PAYROLL-R declaration.risk.start deny",
		own + " declaration.risk.inbox permit", own + " declaration.risk.ack permit",
		"PAYROLL-R declaration.risk.status permit", "PAYROLL-R declaration.risk.end permit", "PAYROLL-R declaration.risk.end deny"} {
		if !seen[want] {
			t.Errorf("the worker's exchanges lack %q: %v", want, seen)
		}
	}
}

// insurersOf lists the health insurers holding person's file on day.
func insurersOf(t *testing.T, r *running, person string, day date.Date) []string {
	t.Helper()
	var out []string
	for _, f := range mustFiles(t, r, person, day) {
		if slices.Contains([]string{synth.HealthInsurer1, synth.HealthInsurer2, synth.HealthInsurer3}, f.Institution) {
			out = append(out, f.Institution)
		}
	}
	return out
}

func mustFiles(t *testing.T, r *running, person string, day date.Date) []directory.Integration {
	t.Helper()
	files, err := r.st.Directory.Files(context.Background(), person, day)
	if err != nil {
		t.Fatal(err)
	}
	return files
}
