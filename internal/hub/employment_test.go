package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// payroll makes a payroll office mandated by the fixture employer only, with an
// application, and returns a token of that application with the scopes asked.
func payroll(t *testing.T, r *running, code, scope string) string {
	t.Helper()
	ctx, d := context.Background(), r.st.Directory
	inst := directory.Institution{Code: code, Name: "Payroll " + code, Sector: "employment", Kind: "payroll_office",
		Mandates: []string{fixtureEnterprise}}
	app := directory.Application{ID: strings.ToLower(code) + "-app", Institution: code, Name: "Payroll app", Status: directory.StatusActive,
		AuthMethods: []string{directory.AuthClientSecret}}
	if _, _, err := directory.Put(ctx, d, "test", inst, directory.AnyVersion); err != nil {
		t.Fatal(err)
	}
	if _, _, err := directory.Put(ctx, d, "test", app, directory.AnyVersion); err != nil {
		t.Fatal(err)
	}
	secret, err := d.IssueClientSecret(ctx, "test", app.ID)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {app.ID}, "client_secret": {secret}, "scope": {scope}}
	resp, err := http.PostForm(r.url+"/oauth2/client/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

const fixtureEnterprise = "0300000016" // synth.FixtureEmployer's

// TestEmployerChannel: a payroll office declares a hire for the employer that mandated
// it; the hire becomes the social registry's employment_start, pushed to the institution
// with a file on the worker; a declaration for an employer that did not mandate it, or
// with a token without declaration.submit, is refused, and every attempt is in the audit
// log under the worker's number.
func TestEmployerChannel(t *testing.T) {
	r := startHub(t, false)
	if synth.FixtureEmployer != "E"+fixtureEnterprise {
		t.Fatalf("the fixture employer is %s", synth.FixtureEmployer)
	}
	jobseeker := fileHolder(t, r, synth.EmploymentService, synth.CapacityJobseeker, 2, nil)
	inboxes := inboxesFor(t, r, []string{"employment_start", "employment_end"}, synth.EmploymentService)
	tok := payroll(t, r, "PAYROLL-A", "declaration.submit")
	start := r.st.Directory.Today().AddDays(3).String()
	hire := `{"kind":"hire","person":"` + jobseeker + `","employer":"` + fixtureEnterprise + `","start":"` + start + `","contract":"permanent","fraction":0.8,"sector":"200"}`

	if status, b := post(t, r.url+"/declarations", r.token(t, synth.PensionFund), hire); status != http.StatusForbidden && status != http.StatusUnauthorized {
		t.Errorf("a token without declaration.submit: %d %s; want refused", status, b)
	}
	status, b := post(t, r.url+"/declarations", tok, hire)
	if status != http.StatusCreated {
		t.Fatalf("hire: %d %s", status, b)
	}
	var res struct {
		Declaration struct {
			Relation int64 `json:"relation"`
			Event    int64 `json:"event"`
			Late     bool  `json:"late"`
		} `json:"declaration"`
		Audit int64 `json:"audit"`
	}
	if err := json.Unmarshal(b, &res); err != nil || res.Declaration.Relation == 0 || res.Declaration.Event == 0 || res.Declaration.Late || res.Audit == 0 {
		t.Fatalf("hire answer %s (%v): want a relation, an event, not late, an audit record", b, err)
	}
	ev := inboxes[synth.EmploymentService].waitForEvent(jobseeker, "employment_start", 10*time.Second)
	if ev == nil {
		t.Fatal("the employment service was not notified of the hire")
	}
	if !strings.Contains(ev.Raw, fixtureEnterprise) {
		t.Errorf("the notified record lacks the employer: %s", ev.Raw)
	}

	// Attack: the payroll office declares for an employer that did not mandate it, and
	// exits a relation of that employer's through a batch.
	other := strings.Replace(hire, fixtureEnterprise, "0200000142", 1)
	if status, b := post(t, r.url+"/declarations", tok, other); status != http.StatusForbidden {
		t.Errorf("unmandated hire: %d %s; want 403", status, b)
	}
	batch := `{"declarations":[{"kind":"exit","relation":` + itoa(res.Declaration.Relation) + `,"end":"` + start + `"},` + other + `]}`
	status, b = post(t, r.url+"/declarations", tok, batch)
	var br struct {
		Results []struct {
			Status int `json:"status"`
		} `json:"results"`
	}
	if json.Unmarshal(b, &br); status != 200 || len(br.Results) != 2 || br.Results[0].Status != 201 || br.Results[1].Status != 403 {
		t.Fatalf("batch: %d %s; want 201 then 403", status, b)
	}
	if ev := inboxes[synth.EmploymentService].waitForEvent(jobseeker, "employment_end", 10*time.Second); ev == nil {
		t.Error("the employment service was not notified of the exit")
	}
	// Every attempt is found by the worker's number: the refused ones too.
	status, b = get(t, r.url+"/audit/persons/"+jobseeker+"/exchanges", r.admin)
	if status != 200 {
		t.Fatalf("audit by person: %d %s", status, b)
	}
	var page struct {
		Items []struct {
			Institution, Purpose, Decision string
		} `json:"items"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, it := range page.Items {
		seen[it.Institution+" "+it.Purpose+" "+it.Decision] = true
	}
	for _, want := range []string{"PAYROLL-A declaration.hire permit", "PAYROLL-A declaration.hire deny", "PAYROLL-A declaration.exit permit"} {
		if !seen[want] {
			t.Errorf("the worker's exchanges lack %q: %v", want, seen)
		}
	}
	probeRegister(t, r, tok, start)
}

// probeRegister: hires are no oracle of the civil register (an outsider's finding). A
// bad check digit, a number the register lacks and a deceased person get one answer;
// each attempt is sealed under the number asked; after employment.UnknownPerHour of
// them the declarer's hires are refused (429), sealed too.
func probeRegister(t *testing.T, r *running, tok, start string) {
	t.Helper()
	today := r.st.Directory.Today().String()
	dead := fileHolder(t, r, synth.EmploymentService, synth.CapacityJobseeker, 7, nil)
	if status, b := post(t, r.url+"/admin/civil/events", r.admin, `{"type":"death","person":"`+dead+`","date":"`+today+`"}`); status != 201 {
		t.Fatalf("death: %d %s", status, b)
	}
	unknown, _ := ident.MakePerson(1901, 1, 1, 997, ident.Register)
	badDigit := dead[:9] + fmt.Sprintf("%02d", (int(dead[9]-'0')*10+int(dead[10]-'0')+1)%100)
	var answers []string
	for _, p := range []string{badDigit, unknown.String(), dead} {
		hire := `{"kind":"hire","person":"` + p + `","employer":"` + fixtureEnterprise + `","start":"` + start + `","contract":"permanent","fraction":1,"sector":"200"}`
		status, b := post(t, r.url+"/declarations", tok, hire)
		var res struct{ Error string }
		if err := json.Unmarshal(b, &res); status != http.StatusBadRequest || err != nil {
			t.Fatalf("hire of %s: %d %s; want 400", p, status, b)
		}
		answers = append(answers, res.Error)
	}
	if answers[0] != answers[1] || answers[1] != answers[2] || strings.Contains(answers[2], "died") {
		t.Errorf("a bad check digit, an unknown number and a deceased person are told apart: %q", answers)
	}
	hire := `{"kind":"hire","person":"` + unknown.String() + `","employer":"` + fixtureEnterprise + `","start":"` + start + `","contract":"permanent","fraction":1,"sector":"200"}`
	limited := false
	for range employment.UnknownPerHour {
		if status, _ := post(t, r.url+"/declarations", tok, hire); status == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Errorf("%d hires of unknown numbers more were not held back", employment.UnknownPerHour)
	}
	for _, p := range []string{dead, unknown.String()} {
		status, b := get(t, r.url+"/audit/persons/"+p+"/exchanges", r.admin)
		if status != 200 || !strings.Contains(string(b), `"declaration.hire"`) || !strings.Contains(string(b), `"deny"`) {
			t.Errorf("the refused hires of %s are not in the audit log: %d %s", p, status, b)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func get(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestQuarterlyFileThroughTheHub: a payroll office's quarterly file is stored, its
// accepted line becomes the social registry's income change, pushed to the institution
// with a file on the worker, and its audit records name every worker it names, accepted
// or not; an exit refused before its relation is read names the worker the request
// names.
func TestQuarterlyFileThroughTheHub(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ctx, d := context.Background(), r.st.Directory
	today := d.Today()
	var fund string
	for _, dir := range []string{"NORTH", "SOUTH", "EAST", "WEST"} {
		page, _ := d.Store().Integrations(ctx, directory.IntegrationQuery{Institution: synth.ChildBenefitPrefix + dir, Day: today, Limit: 1})
		if len(page) > 0 {
			fund = synth.ChildBenefitPrefix + dir
			break
		}
	}
	parent := fileHolder(t, r, fund, synth.CapacityParent, 3, nil)
	stranger := fileHolder(t, r, fund, synth.CapacityParent, 4, nil) // no relation: rejected
	inboxes := inboxesFor(t, r, []string{"income"}, fund)
	tok := payroll(t, r, "PAYROLL-Q", "declaration.submit")
	hire := `{"kind":"hire","person":"` + parent + `","employer":"` + fixtureEnterprise + `","start":"` + today.String() + `","contract":"permanent","fraction":1,"sector":"200"}`
	if status, b := post(t, r.url+"/declarations", tok, hire); status != http.StatusCreated {
		t.Fatalf("hire: %d %s", status, b)
	}
	q := employment.QuarterOf(today)
	file := fmt.Sprintf(`{"person":%q,"employer":%q,"quarter":%q,"wages":900000,"bonus":0,"days":10,"hours":76,"fraction":1,"contribution":"01"}`+"\n", parent, fixtureEnterprise, q) +
		fmt.Sprintf(`{"person":%q,"employer":%q,"quarter":%q,"wages":100,"bonus":0,"days":1,"hours":1,"fraction":1,"contribution":"01"}`+"\n", stranger, fixtureEnterprise, q)
	status, b := post(t, r.url+"/declarations/quarterly?format=jsonl", tok, file)
	var f employment.File
	if err := json.Unmarshal(b, &f); status != http.StatusCreated || err != nil || f.Accepted != 1 || f.Rejected != 1 || f.Mutations != 1 {
		t.Fatalf("quarterly file: %d %s; want 201, 1 accepted, 1 rejected, 1 mutation", status, b)
	}
	// A file whose every line is rejected is not a success: 422 with the report, the
	// first time and again (an outsider's finding: it answered 201).
	rejected := fmt.Sprintf(`{"person":%q,"employer":%q,"quarter":%q,"wages":200,"bonus":0,"days":1,"hours":1,"fraction":1,"contribution":"01"}`+"\n", stranger, fixtureEnterprise, q)
	for _, try := range []string{"first", "again"} {
		status, b := post(t, r.url+"/declarations/quarterly?format=jsonl", tok, rejected)
		var none employment.File
		if err := json.Unmarshal(b, &none); status != http.StatusUnprocessableEntity || err != nil || none.Accepted != 0 || none.Rejected != 1 ||
			len(none.Report) != 1 || none.Report[0].Line != 1 || none.Report[0].Verdict != employment.Rejected {
			t.Errorf("a file with every line rejected, %s: %d %s; want 422 and the report rejecting line 1", try, status, b)
		}
	}
	ev := inboxes[fund].waitForEvent(parent, "income", 10*time.Second)
	if ev == nil {
		t.Fatal("the child-benefit fund was not notified of the worker's income")
	}
	if !strings.Contains(ev.Raw, `"monthly_income"`) {
		t.Errorf("the notified record lacks the income: %s", ev.Raw)
	}
	evs, err := r.st.Civil.Population().Events(ctx, parent)
	if err != nil {
		t.Fatal(err)
	}
	var incomes []string
	for _, e := range evs {
		if e.Type == "income" {
			incomes = append(incomes, e.Date.String()+" "+string(e.Data))
		}
	}
	if want := q.Start().String() + ` {"monthly_income":3000}`; len(incomes) != 1 || incomes[0] != want {
		t.Errorf("the worker's income changes %q; want [%s]: the quarter's wages over three months", incomes, want)
	}
	// An exit of a relation that does not exist, naming the worker: refused, and found
	// under the worker's number.
	exit := `{"kind":"exit","relation":987654321,"person":"` + parent + `","end":"` + today.String() + `"}`
	if status, b := post(t, r.url+"/declarations", tok, exit); status != http.StatusForbidden {
		t.Errorf("exit of no relation: %d %s; want 403", status, b)
	}
	for person, want := range map[string][]string{
		parent:   {"PAYROLL-Q declaration.quarter permit", "PAYROLL-Q declaration.exit deny"},
		stranger: {"PAYROLL-Q declaration.quarter permit"},
	} {
		status, b := get(t, r.url+"/audit/persons/"+person+"/exchanges", r.admin)
		var page struct {
			Items []struct{ Institution, Purpose, Decision string } `json:"items"`
		}
		if err := json.Unmarshal(b, &page); status != 200 || err != nil {
			t.Fatalf("audit by person: %d %s", status, b)
		}
		seen := map[string]bool{}
		for _, it := range page.Items {
			seen[it.Institution+" "+it.Purpose+" "+it.Decision] = true
		}
		for _, w := range want {
			if !seen[w] {
				t.Errorf("%s's exchanges lack %q: %v", person, w, seen)
			}
		}
	}
}

// employmentSearch is a DCI sync search of the social registry's worker-employment
// service for one worker, asking for fields (none: all the authorization grants).
func employmentSearch(messageID, person string, fields ...string) string {
	ts := time.Now().UTC().Format(time.RFC3339)
	meta := ""
	if len(fields) > 0 {
		b, _ := json.Marshal(fields)
		meta = `,"meta":{"fields":` + string(b) + `}`
	}
	return `{"header":{"version":"1.0.0","message_id":"` + run + messageID + `","message_ts":"` + ts + `","action":"search","sender_id":"test","receiver_id":"` + synth.WorkerEmployment + `","total_count":1` + meta + `},` +
		`"message":{"transaction_id":"t-` + run + messageID + `","search_request":[{"reference_id":"r-1","timestamp":"` + ts +
		`","search_criteria":{"query_type":"idtype-value","query":{"type":"PN","value":"` + person + `"}},"locale":"eng"}]}}`
}

// TestEmploymentSourceAnswers: the employment source answers exchanges like the civil
// register: the pension fund gets a pensioner's employment periods and wages, sealed in
// the audit log; the employment service, authorized for periods only, gets no wages and
// is refused when it asks for them; nobody gets a worker on whom they hold no file.
func TestEmploymentSourceAnswers(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	today := r.st.Directory.Today()
	pensioner := fileHolder(t, r, synth.PensionFund, synth.CapacityPensioner, 5, nil)
	jobseeker := fileHolder(t, r, synth.EmploymentService, synth.CapacityJobseeker, 5, func(p string) bool { return filesOf(t, r, p)[synth.PensionFund] == "" })
	tok := payroll(t, r, "PAYROLL-X", "declaration.submit")
	for _, p := range []string{pensioner, jobseeker} {
		hire := `{"kind":"hire","person":"` + p + `","employer":"` + fixtureEnterprise + `","start":"` + today.AddDays(-40).String() + `","contract":"permanent","fraction":0.5,"sector":"200"}`
		if status, b := post(t, r.url+"/declarations", tok, hire); status != http.StatusCreated {
			t.Fatalf("hire: %d %s", status, b)
		}
	}
	q := employment.QuarterOf(today)
	file := fmt.Sprintf(`{"person":%q,"employer":%q,"quarter":%q,"wages":450000,"bonus":0,"days":20,"hours":76,"fraction":0.5,"contribution":"01"}`+"\n", pensioner, fixtureEnterprise, q) +
		fmt.Sprintf(`{"person":%q,"employer":%q,"quarter":%q,"wages":300000,"bonus":0,"days":20,"hours":76,"fraction":0.5,"contribution":"01"}`+"\n", jobseeker, fixtureEnterprise, q)
	if status, b := post(t, r.url+"/declarations/quarterly?format=jsonl", tok, file); status != http.StatusCreated {
		t.Fatalf("quarterly file: %d %s", status, b)
	}
	url := r.url + "/dci/sr/registry/sync/search"
	pension, jobs := r.token(t, synth.PensionFund), r.token(t, synth.EmploymentService)

	status, b := post(t, url, pension, employmentSearch("emp-1", pensioner))
	if status != 200 || !strings.Contains(string(b), `"employment_periods":[{`) || !strings.Contains(string(b), `"wages":450000`) ||
		!strings.Contains(string(b), `"employer":"`+fixtureEnterprise+`"`) {
		t.Fatalf("the pension fund's look-up: %d %s; want the periods and the wages", status, b)
	}
	// The employment service: periods, never wages.
	status, b = post(t, url, jobs, employmentSearch("emp-2", jobseeker))
	if status != 200 || !strings.Contains(string(b), `"employment_periods":[{`) || strings.Contains(string(b), `"wages"`) {
		t.Errorf("the employment service's look-up: %d %s; want periods and no wages", status, b)
	}
	// Attack: fields not granted.
	status, b = post(t, url, jobs, employmentSearch("emp-3", jobseeker, "person", "wages"))
	if strings.Contains(string(b), `"wages":300000`) || strings.Contains(string(b), `"employment_periods"`) {
		t.Errorf("the employment service asked for wages: %d %s; want a refusal", status, b)
	}
	// Attack: another person, on whom the asker holds no file.
	status, b = post(t, url, pension, employmentSearch("emp-4", jobseeker))
	if strings.Contains(string(b), `"employment_periods"`) || strings.Contains(string(b), `"wages"`) {
		t.Errorf("the pension fund asked about a worker it has no file on: %d %s; want a refusal", status, b)
	}
	// Every look-up is in the audit log under the worker's number.
	status, b = get(t, r.url+"/audit/persons/"+jobseeker+"/exchanges", r.admin)
	var page struct {
		Items []struct{ Institution, Service, Decision string } `json:"items"`
	}
	if err := json.Unmarshal(b, &page); status != 200 || err != nil {
		t.Fatalf("audit by person: %d %s", status, b)
	}
	seen := map[string]int{}
	for _, it := range page.Items {
		seen[it.Institution+" "+it.Service+" "+it.Decision]++
	}
	if seen[synth.EmploymentService+" "+synth.WorkerEmployment+" permit"] != 1 || seen[synth.EmploymentService+" "+synth.WorkerEmployment+" deny"] != 1 ||
		seen[synth.PensionFund+" "+synth.WorkerEmployment+" deny"] != 1 {
		t.Errorf("the worker's exchanges %v; want the employment service's look-up and refusal, the pension fund's refusal", seen)
	}
}

// TestConcurrentHires: hires sent at once (committed together on SQLite) are each
// answered 201 with a relation and an event of their own, and each is in the audit log
// exactly once, under its worker's number.
func TestConcurrentHires(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	tok := payroll(t, r, "PAYROLL-G", "declaration.submit")
	start := r.st.Directory.Today().AddDays(3).String()
	const n = 24
	workers := make([]string, n)
	for i := range workers {
		workers[i] = fileHolder(t, r, synth.EmploymentService, synth.CapacityJobseeker, 20+i, nil)
	}
	type answer struct {
		status int
		body   []byte
	}
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i, p := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hire := `{"kind":"hire","person":"` + p + `","employer":"` + fixtureEnterprise + `","start":"` + start + `","contract":"permanent","fraction":1,"sector":"200"}`
			req, _ := http.NewRequest("POST", r.url+"/declarations", strings.NewReader(hire))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				answers[i] = answer{0, []byte(err.Error())}
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			answers[i] = answer{resp.StatusCode, b}
		}()
	}
	wg.Wait()
	relations, events := map[int64]bool{}, map[int64]bool{}
	for i, a := range answers {
		var res struct {
			Declaration struct{ Relation, Event int64 } `json:"declaration"`
		}
		if err := json.Unmarshal(a.body, &res); a.status != http.StatusCreated || err != nil || res.Declaration.Relation == 0 ||
			relations[res.Declaration.Relation] || events[res.Declaration.Event] {
			t.Errorf("hire %d: %d %s; want 201 with a relation and an event of its own", i, a.status, a.body)
			continue
		}
		relations[res.Declaration.Relation], events[res.Declaration.Event] = true, true
		status, b := get(t, r.url+"/audit/persons/"+workers[i]+"/exchanges", r.admin)
		if status != 200 || strings.Count(string(b), `"declaration.hire"`) != 1 {
			t.Errorf("the audit records of worker %d: %d %s; want the hire exactly once", i, status, b)
		}
	}
}
