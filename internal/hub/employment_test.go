package hub_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
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
