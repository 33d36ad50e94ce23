package portal_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The transparency page is public: the authorizations in force, searchable; the
// latest checkpoint and how to check one's evidence.
func TestTransparency(t *testing.T) {
	t.Parallel()
	tg := start(t)
	citizen := tg.browser(t)
	citizen.login(tg.persons(t, 1, false)[0]) // records in the log: a checkpoint to show
	b := tg.browser(t)
	st, page := b.get("/portal/transparency")
	if st != http.StatusOK || !strings.Contains(page, `id="authorizations"`) || !strings.Contains(page, `id="cp-size"`) {
		t.Fatalf("GET /portal/transparency: %d %.600s", st, page)
	}
	// The key history, so that evidence signed before a rotation checks, and the command
	// that uses it.
	if !regexp.MustCompile(`id="key-history"><li><code>crossroads-audit&#43;[0-9a-f]{8}&#43;[A-Za-z0-9/=&#;]+</code>: checkpoints of sizes \d+–now</li></ul>`).MatchString(page) ||
		!strings.Contains(page, "crossroads audit verify-evidence --checkpoint checkpoint.json evidence-N.json") {
		t.Errorf("GET /portal/transparency lacks the key history or the command that checks evidence with it: %s", page)
	}
	count := regexp.MustCompile(`id="tr-count">(\d+) `)
	all, _ := strconv.Atoi(count.FindStringSubmatch(page)[1])
	_, page = b.get("/portal/transparency?q=pension-fund")
	some, _ := strconv.Atoi(count.FindStringSubmatch(page)[1])
	if all == 0 || some == 0 || some >= all || !strings.Contains(page, "PENSION-FUND") {
		t.Errorf("search: %d of %d authorizations for pension-fund", some, all)
	}
	_, page = b.get("/portal/transparency?q=" + strings.Repeat("%3Cscript%3E", 20))
	if strings.Contains(page, "<script>") {
		t.Error("the query is echoed unescaped")
	}
}
