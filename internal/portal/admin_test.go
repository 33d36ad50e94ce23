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
	// A citizen's session is not an administrator's.
	c := tg.browser(t)
	c.login(tg.persons(t, 1, false)[0])
	if _, page := c.get("/portal/admin"); strings.Contains(page, `id="counts"`) {
		t.Error("a citizen sees the console")
	}
	if st, _ := c.post("/portal/admin/retry", url.Values{"subscription": {"x"}}); st != http.StatusOK {
		t.Errorf("a citizen's retry: %d; want the console's login page", st)
	}
}
