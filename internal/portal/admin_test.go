package portal_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The operators' console: an administrator token logs in (a wrong one does not), the
// views show counts and states, no person.
func TestAdminConsole(t *testing.T) {
	t.Parallel()
	tg := start(t)
	b := tg.browser(t)
	b.get("/portal/admin")
	if st, _ := b.post("/portal/admin/login", url.Values{"token": {"wrong"}}); st != http.StatusUnauthorized {
		t.Errorf("a wrong admin token: %d; want 401", st)
	}
	b.get("/portal/admin")
	st, page := b.post("/portal/admin/login", url.Values{"token": {nation.Admin()}})
	if st != http.StatusOK || !strings.Contains(page, `id="counts"`) || !strings.Contains(page, `id="subscriptions"`) {
		t.Fatalf("console: %d %.800s", st, page)
	}
	if !strings.Contains(page, "<dt>authorization</dt>") {
		t.Error("the console does not count the authorizations")
	}
	for _, id := range []string{`id="authorizations"`, `id="directory-subscriptions"`, `id="checkpoints"`, `id="witnesses"`,
		`id="chart-throughput"`, `id="chart-errors"`} {
		if !strings.Contains(page, id) {
			t.Errorf("the console lacks %s", id)
		}
	}
	if st, svg := b.get("/portal/admin/charts/throughput.svg"); st != http.StatusOK || !strings.HasPrefix(svg, "<svg") || strings.Contains(svg, "<script") {
		t.Errorf("throughput chart: %d %.200s", st, svg)
	}
	if st, _ := b.get("/portal/admin/charts/other.svg"); st != http.StatusNotFound {
		t.Errorf("an unknown chart: %d; want 404", st)
	}
	// The retry form without its CSRF token, or from another site, is refused.
	if st, _ := b.post("/portal/admin/retry", url.Values{"csrf": {"forged"}, "subscription": {"x"}}); st != http.StatusForbidden {
		t.Errorf("retry with a forged CSRF token: %d; want 403", st)
	}
	// A citizen's session is not an administrator's.
	c := tg.browser(t)
	c.login(tg.persons(t, 1, false)[0])
	if _, page := c.get("/portal/admin"); strings.Contains(page, `id="counts"`) {
		t.Error("a citizen sees the console")
	}
	if st, _ := c.post("/portal/admin/retry", url.Values{"subscription": {"x"}}); st != http.StatusOK {
		t.Errorf("a citizen's retry: %d; want the console's login page", st)
	}
	if st, _ := c.get("/portal/admin/charts/throughput.svg"); st != http.StatusNotFound {
		t.Errorf("a citizen reads the console's chart: %d; want 404", st)
	}
}
