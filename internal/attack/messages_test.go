package attack_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/synth"
)

// A refusal names the limit that was passed (#13, F5): a message nested too deep says
// so and how deep it may go; a page number out of range says the range.
func TestRefusalsNameTheLimit(t *testing.T) {
	tg := start(t, nil)
	tok := tg.token(t, synth.PensionFund)
	deep := `{"header":` + strings.Repeat("[", 150_000) + strings.Repeat("]", 150_000) + `}`
	status, _, body := tg.do(t, "POST", "/dci/crvs/registry/sync/search", tok, "application/json", []byte(deep))
	if _, msg := errorCode(t, body); status != http.StatusBadRequest || !strings.Contains(msg, "nested too deep (max 10000)") {
		t.Errorf("a message nested 150,000 deep: %d %q; want 400 saying it is nested too deep (max 10000)", status, msg)
	}
	person := tg.files(t, synth.PensionFund, today(), 1)[0].Person
	c := strings.Replace(byID("PN", person), `"page_number":1`, `"page_number":9223372036854775`, 1)
	status, _, body = tg.dci(t, tok, search{criteria: c})
	if !strings.Contains(string(body), "from 1 to 2147483647") {
		t.Errorf("page_number 9223372036854775: %d %s; want the range said", status, clip(body))
	}
}
