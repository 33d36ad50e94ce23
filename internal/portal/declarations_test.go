package portal_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/portal"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// A payroll office declares a hire; the worker finds the declaration, and who made it,
// on their data page (read through the exchange as themselves); another person does
// not, whatever they put in the URL.
func TestDeclarationsSeenByTheWorker(t *testing.T) {
	t.Parallel()
	tg := start(t)
	ctx, d := context.Background(), tg.st.Directory
	employer := strings.TrimPrefix(synth.FixtureEmployer, "E")
	inst := directory.Institution{Code: "PAYROLL-P", Name: "Payroll P", Sector: "employment", Kind: "payroll_office", Mandates: []string{employer}}
	app := directory.Application{ID: "payroll-p-app", Institution: inst.Code, Name: "Payroll app", Status: directory.StatusActive,
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
	resp, err := http.PostForm(tg.url+"/oauth2/client/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {app.ID},
		"client_secret": {secret}, "scope": {"declaration.submit"}})
	if err != nil {
		t.Fatal(err)
	}
	tok := tokenOf(t, resp)
	ps := tg.persons(t, 30, false)
	worker, other := "", ps[len(ps)-1]
	for _, p := range ps[:len(ps)-1] {
		hire := `{"kind":"hire","person":"` + p + `","employer":"` + employer + `","start":"` + d.Today().String() + `","contract":"permanent","fraction":1,"sector":"200"}`
		req, _ := http.NewRequest(http.MethodPost, tg.url+"/declarations", strings.NewReader(hire))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusCreated {
			worker = p
			break
		}
		t.Logf("hire of a person refused: %d %s", resp.StatusCode, b)
	}
	if worker == "" {
		t.Fatal("no hire was accepted")
	}
	c := tg.browser(t)
	c.login(worker)
	_, page := c.get("/portal/data")
	// Every source listed answers for a normal person: none says it could not.
	if n := strings.Count(page, `class="source-error"`) + strings.Count(page, portal.T("en", "data.error")); n != 0 {
		t.Errorf("the data page says %d times a source could not answer: %.3000s", n, page)
	}
	// The rights decisions are on the statuses page: the data page links there.
	if !strings.Contains(page, `<a class="elsewhere" href="/portal/statuses">`) {
		t.Errorf("the data page does not send to the statuses page for the rights decisions: %.3000s", page)
	}
	table := section(page, `<table class="declarations">`, "</table>")
	if !strings.Contains(table, "<td>hire</td>") && !strings.Contains(table, "<td>hire<") {
		t.Errorf("the data page does not show the hire as a declaration: %.2000s", table)
	}
	if !strings.Contains(table, `<td class="declarant">PAYROLL-P</td>`) || !strings.Contains(table, employer) {
		t.Errorf("the declaration does not say who declared it, for which employer: %.2000s", table)
	}
	o := tg.browser(t)
	o.login(other)
	for _, path := range []string{"/portal/data", "/portal/data?person=" + worker} {
		if _, page := o.get(path); strings.Contains(page, "PAYROLL-P") || strings.Contains(page, worker) {
			t.Errorf("%s shows another worker's declaration", path)
		}
	}
}
