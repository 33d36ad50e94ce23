package hub_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci/dcitest"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

func notifyBody(messageID, ts string) string {
	return fmt.Sprintf(`{"signature":"","header":{"version":"1.0.0","message_id":%q,"message_ts":%q,"action":"notify","status":"succ","sender_id":"civil","total_count":1},`+
		`"message":{"transaction_id":"t-n","notify_event":[{"reference_id":"r-1","timestamp":%q,"data":{"reg_record_type":"Person","reg_records":[{"person":%q}]}}]}}`, messageID, ts, ts, synth.FixtureNumber)
}

func callbackBody(messageID, ts, action string) string {
	return fmt.Sprintf(`{"signature":"","header":{"version":"1.0.0","message_id":%q,"message_ts":%q,"action":%q,"status":"succ","sender_id":"civil","total_count":1,"completed_count":1},`+
		`"message":{"transaction_id":"t-1","correlation_id":"c-1","search_response":[]}}`, messageID, ts, action)
}

// TestNegativeCases sends every DCI endpoint the refusals the conformance suites try —
// no or a forged token, no JSON content type (415), a body over 1 MiB (413), a timestamp without time zone, locale "en",
// an id over 99 characters, page_size 0 — and checks the status, the spec's code, and
// that the answer is valid against the CRVS document.
func TestNegativeCases(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	token := r.tokenWithScope(t, synth.HealthInsurer1, "registry.search registry.subscribe registry.txn_status")
	spec := dcitest.Spec(t, "crvs_api_v1.0.0.yaml")
	ts := time.Now().UTC().Format(time.RFC3339)
	long := strings.Repeat("x", 100)
	search := func(msgID, msgTS, locale, pageSize string) string {
		return fmt.Sprintf(`{"header":{"version":"1.0.0","message_id":%q,"message_ts":%q,"action":"search","sender_id":"test","sender_uri":"http://127.0.0.1:9/cb","total_count":1},`+
			`"message":{"transaction_id":"t-1","search_request":[{"reference_id":"r-1","timestamp":%q,"search_criteria":{"query_type":"idtype-value","query":{"type":"PN","value":%q},"pagination":{"page_size":%s,"page_number":1}},"locale":%q}]}}`,
			msgID, msgTS, ts, synth.FixtureNumber, pageSize, locale)
	}
	status := fmt.Sprintf(`{"header":{"version":"1.0.0","message_id":"%%s","message_ts":%q,"action":"txn-status","sender_id":"test","total_count":1},`+
		`"message":{"transaction_id":"t-1","txnstatus_request":{"reference_id":"r-1","txn_type":"search","attribute_type":"transaction_id","attribute_value":"t-1"}}}`, ts)
	n := 0
	id := func() string { n++; return fmt.Sprintf("%sneg-%d", run, n) }
	type tc struct {
		name, path, token, contentType, body string
		status                               int
		code                                 string
	}
	var cases []tc
	source := r.tokenWithScope(t, synth.CivilRegistry, "registry.notify")
	for _, p := range []struct{ path, body, token string }{
		{"sync/search", search(id(), ts, "eng", "1"), token},
		{"search", search(id(), ts, "eng", "1"), token},
		{"sync/txn/status", fmt.Sprintf(status, id()), token},
		{"txn/status", fmt.Sprintf(status, id()), token},
		{"subscribe", subscribeBody(id(), "http://127.0.0.1:9/cb", "BIRTH"), token},
		{"unsubscribe", unsubscribeBody(id(), "http://127.0.0.1:9/cb", "sub-x"), token},
		// What sources send the hub: changes, and the callbacks of asynchronous sources.
		{"notify", notifyBody(id(), ts), source},
		{"on-search", callbackBody(id(), ts, "on-search"), source},
		{"on-subscribe", callbackBody(id(), ts, "on-subscribe"), source},
		{"on-unsubscribe", callbackBody(id(), ts, "on-unsubscribe"), source},
		{"txn/on-status", callbackBody(id(), ts, "txn-on-status"), source},
	} {
		cases = append(cases,
			tc{p.path + ": no token", p.path, "", "application/json", p.body, 401, "err.request.unauthorized"},
			tc{p.path + ": forged token", p.path, token[:len(token)-4] + "AAAA", "application/json", p.body, 401, "err.request.unauthorized"},
			tc{p.path + ": text/plain", p.path, p.token, "text/plain", p.body, 415, "err.request.bad"},
			tc{p.path + ": over 1 MiB", p.path, p.token, "application/json", p.body[:len(p.body)-1] + `,"pad":"` + strings.Repeat("x", 1<<20) + `"}`, 413, "err.request.bad"},
		)
		if p.token == source {
			cases = append(cases, tc{p.path + ": a client's token, not a source's", p.path, token, "application/json", p.body, 403, "err.request.forbidden"},
				tc{p.path + ": unsigned", p.path, source, "application/json", p.body, 401, "err.signature.missing"})
		}
	}
	cases = append(cases,
		tc{"timestamp without time zone", "sync/search", token, "application/json", search(id(), strings.TrimSuffix(ts, "Z"), "eng", "1"), 400, "err.request.bad"},
		tc{"message id over 99 characters", "sync/search", token, "application/json", search(long, ts, "eng", "1"), 400, "err.request.bad"},
		tc{"locale en", "sync/search", token, "application/json", search(id(), ts, "en", "1"), 200, "rjct.search_criteria.invalid"},
		tc{"page_size 0", "sync/search", token, "application/json", search(id(), ts, "eng", "0"), 200, "rjct.pagination.invalid"},
		tc{"async: timestamp without time zone", "search", token, "application/json", search(id(), strings.TrimSuffix(ts, "Z"), "eng", "1"), 400, "err.request.bad"},
		tc{"async: callback not registered", "search", token, "application/json", search(id(), ts, "eng", "1"), 400, "err.sender_uri.invalid"},
	)
	for _, c := range cases {
		req, _ := http.NewRequest("POST", r.url+"/dci/crvs/registry/"+c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.contentType)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !strings.Contains(string(b), c.code) {
			t.Errorf("%s: %d %s; want %d with %s", c.name, resp.StatusCode, b, c.status, c.code)
			continue
		}
		dcitest.ValidateResponse(t, spec, "/registry/"+c.path, resp.StatusCode, b)
	}
}
