package hub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/rights"
	"github.com/crossroads-hub/crossroads/internal/rightsfacts"
	"github.com/crossroads-hub/crossroads/internal/synth"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// holder finds a person who holds every right named, from the decisions stored.
func holder(t *testing.T, r *running, ok func(person string) bool, ids ...string) string {
	t.Helper()
	ctx := context.Background()
	for after := ""; ; {
		bs, err := r.st.Civil.Roster().Briefs(ctx, after, 500)
		if err != nil || len(bs) == 0 {
			t.Fatalf("no person holds %v (%v)", ids, err)
		}
		for _, b := range bs {
			h, _ := r.st.Civil.Rights().History(ctx, b.Number)
			held := map[string]bool{}
			for _, d := range h {
				held[d.Right] = d.Holds()
			}
			all := true
			for _, id := range ids {
				all = all && held[id]
			}
			if all && ok(b.Number) {
				return b.Number
			}
		}
		after = bs[len(bs)-1].Number
	}
}

// TestRightsThroughTheHub: the national recompute grants rights from the registers'
// facts, each read recorded under the person; an institution reads the decisions and
// explanations of the rights it is authorized for only, every refusal recorded; an
// income change re-evaluates the person within seconds; statistics hide small cells.
func TestRightsThroughTheHub(t *testing.T) {
	ctx := context.Background()
	var res rights.Result
	r := startHubWith(t, func(c *hub.Config) {
		st, err := hub.Open(ctx, *c)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		err = hub.Rights(ctx, *c, st, func(ctx context.Context, e *rights.Engine, _ *rightsfacts.Access) error {
			res, err = e.Nation(ctx, "recompute", nil)
			return err
		})
		if err != nil {
			t.Fatalf("recompute: %v", err)
		}
	})
	if res.Persons < 3000 || res.Changed == 0 || res.Failed != 0 {
		t.Fatalf("recompute = %+v; want every person, grants, no failure", res)
	}
	// A pensioner the pension fund has a file on, so that it hears of the decisions.
	p := holder(t, r, func(p string) bool { return filesOf(t, r, p)[synth.PensionFund] != "" }, "income-guarantee-elderly", "social-energy-tariff")
	pf := r.token(t, synth.PensionFund)

	// The pension fund sees its own right only.
	status, b := get(t, r.url+"/persons/"+p+"/rights", pf)
	var pr rightsfacts.PersonRights
	if status != 200 || json.Unmarshal(b, &pr) != nil || len(pr.Decisions) != 1 || pr.Decisions[0].Right != "income-guarantee-elderly" {
		t.Fatalf("pension fund's rights of %s: %d %s; want the income guarantee alone", p, status, b)
	}
	d := pr.Decisions[0]
	if d.Result != rights.Granted || d.Version != 1 || len(d.Facts) != 3 || d.Facts[0].Source == "" || d.Facts[0].Date.IsZero() {
		t.Errorf("decision = %+v; want a grant with its three facts, each with source and date", d)
	}

	// Another right's explanation is refused, and the attempt recorded under the person.
	if status, b := get(t, r.url+"/persons/"+p+"/rights/social-energy-tariff/explanation", pf); status != http.StatusForbidden {
		t.Errorf("pension fund, energy tariff explanation: %d %s; want 403", status, b)
	}
	// A person the pension fund has no file on: its rights and explanations are refused
	// (outsider finding: they were answered), alike for a number nobody holds.
	other := holder(t, r, func(p string) bool { return filesOf(t, r, p)[synth.PensionFund] == "" })
	for _, who := range []string{other, "99010199789"} {
		for _, path := range []string{"/rights", "/rights/income-guarantee-elderly/explanation"} {
			status, b := get(t, r.url+"/persons/"+who+path, pf)
			if status != http.StatusForbidden || !strings.Contains(string(b), "has no file on this person") {
				t.Errorf("pension fund, %s of a person it has no file on: %d %s; want 403, no file", path, status, b)
			}
		}
	}
	// An institution authorized for no right is refused.
	if status, b := get(t, r.url+"/persons/"+p+"/rights", r.token(t, synth.Museum)); status != http.StatusForbidden {
		t.Errorf("museum: %d %s; want 403", status, b)
	}
	if status, _ := get(t, r.url+"/persons/"+p+"/rights", ""); status != http.StatusUnauthorized {
		t.Errorf("no token: %d; want 401", status)
	}
	if status, _ := get(t, r.url+"/persons/123/rights", pf); status != http.StatusBadRequest {
		t.Errorf("not a person number: %d; want 400", status)
	}
	if status, _ := get(t, r.url+"/persons/"+p+"/rights/no-such-right/explanation", pf); status != http.StatusNotFound {
		t.Errorf("unknown right: %d; want 404", status)
	}

	// Its own right's explanation: the rule in words, the facts, the person's only.
	status, b = get(t, r.url+"/persons/"+p+"/rights/income-guarantee-elderly/explanation", pf)
	var ex rights.Explanation
	if status != 200 || json.Unmarshal(b, &ex) != nil || !ex.Holds || ex.Decision == nil || !strings.Contains(ex.Rule.Readable, "is at least 65") {
		t.Fatalf("explanation: %d %s", status, b)
	}
	if others := otherPersons(b, p); len(others) > 0 {
		t.Errorf("the explanation names other persons: %v", others)
	}

	// Every read and answer is in the audit log under the person.
	status, b = get(t, r.url+"/audit/persons/"+p+"/exchanges?limit=1000", r.admin)
	for _, want := range []string{rightsfacts.Client, `"right:income-guarantee-elderly"`, synth.Museum, "rights-decisions"} {
		if status != 200 || !strings.Contains(string(b), want) {
			t.Errorf("audit log of %s lacks %s: %d %.300s", p, want, status, b)
		}
	}
	if !strings.Contains(string(b), `"deny"`) {
		t.Errorf("the refusals are not in the audit log of %s", p)
	}

	// An income rise ends the income guarantee, pushed through the log's follower; the
	// decision is delivered to the pension fund, and to no institution of another right.
	inboxes := inboxesFor(t, r, []string{"right"}, synth.PensionFund, synth.HealthInsurer1, synth.Museum)
	day := r.st.Directory.Today().String()
	body := fmt.Sprintf(`{"type":"income","person":%q,"date":%q,"monthly_income":9000}`, p, day)
	if status, b := post(t, r.url+"/admin/registries/social/events", r.admin, body); status != 201 {
		t.Fatalf("income change: %d %s", status, b)
	}
	testwait.For(t, 20*time.Second, func() error {
		h, err := r.st.Civil.Rights().History(ctx, p)
		if err != nil {
			return err
		}
		for _, d := range h {
			if d.Right == "income-guarantee-elderly" && d.Result == rights.Ended {
				return nil
			}
		}
		return fmt.Errorf("the income guarantee of %s has not ended", p)
	})
	testwait.For(t, 20*time.Second, func() error {
		pf := inboxes[synth.PensionFund]
		pf.mu.Lock()
		defer pf.mu.Unlock()
		for _, m := range pf.got {
			for _, ev := range notifyEvents([]byte(m)) {
				if ev.Person == p && strings.Contains(ev.Raw, `"right":"income-guarantee-elderly"`) && strings.Contains(ev.Raw, `"result":"ended"`) &&
					strings.Contains(ev.Raw, `"source":"social-member"`) {
					return nil
				}
			}
		}
		return fmt.Errorf("the pension fund received no decision ending the income guarantee of %s", p)
	})
	for _, inst := range []string{synth.HealthInsurer1, synth.Museum} {
		inboxes[inst].mu.Lock()
		for _, m := range inboxes[inst].got {
			if strings.Contains(m, "income-guarantee-elderly") {
				t.Errorf("%s received the pension fund's decision: %.300s", inst, m)
			}
		}
		inboxes[inst].mu.Unlock()
	}

	// Statistics: no cell under 10.
	status, b = get(t, r.url+"/stats/rights?by=region,age_band", pf)
	var st struct {
		Cells []rights.Cell `json:"cells"`
	}
	if status != 200 || json.Unmarshal(b, &st) != nil || len(st.Cells) == 0 {
		t.Fatalf("stats: %d %s", status, b)
	}
	suppressed := 0
	for _, c := range st.Cells {
		if c.Persons == nil {
			suppressed++
		} else if *c.Persons < rights.K {
			t.Errorf("a cell of %d persons is shown: %+v", *c.Persons, c)
		}
	}
	if suppressed == 0 {
		t.Errorf("no cell suppressed among %d: the nation is small, some must be", len(st.Cells))
	}
	if status, b := get(t, r.url+"/stats/rights?format=csv&by=household_type", pf); status != 200 || !strings.HasPrefix(string(b), "right,household_type,persons\n") {
		t.Errorf("stats CSV: %d %.200s", status, b)
	}
	if status, _ := get(t, r.url+"/stats/rights?by=person", pf); status != 400 {
		t.Errorf("stats by person: %d; want 400", status)
	}
}

// otherPersons lists the 11-digit numbers of b other than p.
func otherPersons(b []byte, p string) []string {
	var out []string
	s := string(b)
	for i := 0; i+11 <= len(s); i++ {
		if (i > 0 && isDigit(s[i-1])) || (i+11 < len(s) && isDigit(s[i+11])) {
			continue
		}
		n := s[i : i+11]
		if strings.IndexFunc(n, func(r rune) bool { return r < '0' || r > '9' }) < 0 && n != p {
			out = append(out, n)
		}
	}
	return out
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
