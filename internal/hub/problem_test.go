package hub_test

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci/dcitest"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// TestProblemDetails: every error answer is an RFC 9457 problem (type, title, status,
// detail) that also carries what its own clients read: the DCI errors array (and, for an
// asynchronous call, the ACK), the admin API's error object, or, at the token endpoint,
// RFC 6749's error and error_description, in application/json where RFC 6749 fixes it.
func TestProblemDetails(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	museum := r.token(t, synth.Museum)
	health := r.token(t, synth.HealthInsurer1)
	spec := dcitest.Spec(t, "crvs_api_v1.0.0.yaml")
	tests := []struct {
		name, method, path, token, contentType, body string
		status                                       int
		mediaType                                    string
		want                                         map[string]string // member (dotted path) → value
		dciPath                                      string            // validated against the CRVS document when set
	}{
		{"admin without a token", "GET", "/admin/institutions", "", "", "", 401, "application/problem+json",
			map[string]string{"error.code": "unauthorized", "errors.0.code": "err.request.unauthorized"}, ""},
		{"admin with an unknown field", "POST", "/admin/institutions", r.admin, "application/json", `{"bogus":1}`, 400, "application/problem+json",
			map[string]string{"error.code": "invalid", "error.field": "bogus", "errors.0.code": "err.request.bad"}, ""},
		{"DCI search without a token", "POST", "/dci/crvs/registry/sync/search", "", "application/json", "{}", 401, "application/problem+json",
			map[string]string{"errors.0.code": "err.request.unauthorized"}, "/registry/sync/search"},
		{"DCI search refused", "POST", "/dci/crvs/registry/sync/search", museum, "application/json", syncSearchBody("pd-1", synth.FixtureNumber), 403, "application/problem+json",
			map[string]string{"errors.0.code": "err.request.forbidden"}, "/registry/sync/search"},
		{"DCI search not JSON", "POST", "/dci/crvs/registry/sync/search", health, "application/json", "{", 400, "application/problem+json",
			map[string]string{"errors.0.code": "err.request.bad"}, "/registry/sync/search"},
		{"asynchronous search not JSON", "POST", "/dci/crvs/registry/search", health, "application/json", "{", 400, "application/problem+json",
			map[string]string{"errors.0.code": "err.request.bad", "message.ack_status": "ERR", "message.error.code": "err.request.bad"}, "/registry/search"},
		{"token with a wrong secret", "POST", "/oauth2/client/token", "", "application/x-www-form-urlencoded",
			url.Values{"grant_type": {"client_credentials"}, "client_id": {synth.AppID(synth.Museum)}, "client_secret": {"crc.wrong"}}.Encode(), 401, "application/json",
			map[string]string{"error": "invalid_client"}, ""},
		{"token with another grant", "POST", "/oauth2/client/token", "", "application/x-www-form-urlencoded", "grant_type=password", 400, "application/json",
			map[string]string{"error": "unsupported_grant_type"}, ""},
		{"no such path", "GET", "/nowhere", "", "", "", 404, "application/problem+json",
			map[string]string{"errors.0.code": "err.request.not_found"}, ""},
		{"no such registry verb", "POST", "/dci/crvs/registry/nope", health, "application/json", "{}", 404, "application/problem+json",
			map[string]string{"errors.0.code": "err.request.not_found"}, ""},
		{"a method the path does not take", "GET", "/oauth2/client/token", "", "", "", 405, "application/problem+json",
			map[string]string{"errors.0.code": "err.request.bad"}, ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, r.url+tt.path, strings.NewReader(tt.body))
		if tt.contentType != "" {
			req.Header.Set("Content-Type", tt.contentType)
		}
		if tt.token != "" {
			req.Header.Set("Authorization", "bearer "+tt.token) // the scheme's name is case-insensitive (RFC 7235)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %d %s; want %d", tt.name, resp.StatusCode, b, tt.status)
			continue
		}
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != tt.mediaType {
			t.Errorf("%s: Content-Type %q; want %s", tt.name, resp.Header.Get("Content-Type"), tt.mediaType)
		}
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("%s: %v in %s", tt.name, err, b)
			continue
		}
		for _, m := range []string{"type", "title", "detail"} {
			if s, _ := body[m].(string); s == "" {
				t.Errorf("%s: problem member %s = %v; want a string: %s", tt.name, m, body[m], b)
			}
		}
		if body["status"] != float64(tt.status) {
			t.Errorf("%s: problem member status = %v; want %d", tt.name, body["status"], tt.status)
		}
		for path, want := range tt.want {
			if got := member(body, path); got != want {
				t.Errorf("%s: %s = %v; want %q: %s", tt.name, path, got, want, b)
			}
		}
		if tt.path == "/oauth2/client/token" && tt.method == "POST" { // RFC 6749's errors
			if s, _ := body["error_description"].(string); s == "" {
				t.Errorf("%s: no error_description: %s", tt.name, b)
			}
		}
		if tt.dciPath != "" {
			dcitest.ValidateResponse(t, spec, tt.dciPath, resp.StatusCode, b)
		}
	}
}

// member follows a dotted path (object members, list indexes) through decoded JSON.
func member(v any, path string) any {
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i := 0
			for _, c := range p {
				i = 10*i + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// syncSearchBody is a DCI search of one person by person number.
func syncSearchBody(messageID, person string) string {
	ts := time.Now().UTC().Format(time.RFC3339)
	return `{"header":{"version":"1.0.0","message_id":"` + run + messageID + `","message_ts":"` + ts + `","action":"search","sender_id":"test","total_count":1},` +
		`"message":{"transaction_id":"t-` + run + messageID + `","search_request":[{"reference_id":"r-1","timestamp":"` + ts +
		`","search_criteria":{"query_type":"idtype-value","query":{"type":"PN","value":"` + person + `"}},"locale":"eng"}]}}`
}
