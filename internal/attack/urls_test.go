package attack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/outbound"
	"github.com/crossroads-hub/crossroads/internal/synth"
	"github.com/crossroads-hub/crossroads/internal/testwait"
	"github.com/crossroads-hub/crossroads/internal/txn"
)

// Issue #13, part 3: the URLs the hub posts to (asynchronous answers, on-subscribe, event
// pushes) were compared with the registered ones as strings, so a sender_uri of
// http://<registered>@<attacker>/ sent the hub's signed answers to the attacker. Each
// test registers a listener's URL, tries the tricks of the OWASP SSRF cheat sheet that
// apply to an allow-list of URL prefixes, and checks that the hub refuses them and that
// the attacker's listener hears nothing, while legitimate deliveries still arrive.

// recorder is an HTTP listener that keeps the requests it gets; a request whose path
// starts with /moved is redirected (302) to moved.
type recorder struct {
	srv   *httptest.Server
	moved string

	mu     sync.Mutex
	uris   []string // request URIs, in order
	bodies [][]byte
}

func listen(t *testing.T) *recorder {
	t.Helper()
	rc := &recorder{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.uris = append(rc.uris, r.RequestURI)
		rc.bodies = append(rc.bodies, body)
		rc.mu.Unlock()
		if rc.moved != "" && strings.HasPrefix(r.URL.Path, "/moved") {
			http.Redirect(w, r, rc.moved, http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// host is the listener's host:port.
func (rc *recorder) host() string { return strings.TrimPrefix(rc.srv.URL, "http://") }

func (rc *recorder) requests() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.uris...)
}

// count is how many requests for uri arrived.
func (rc *recorder) count(uri string) int {
	n := 0
	for _, u := range rc.requests() {
		if u == uri {
			n++
		}
	}
	return n
}

// bodyOf returns the body of the first request for uri.
func (rc *recorder) bodyOf(uri string) []byte {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for i, u := range rc.uris {
		if u == uri {
			return rc.bodies[i]
		}
	}
	return nil
}

// setCallbacks registers callbacks for institution's application through the admin
// API, and puts the application back as it was at the end of the test.
func (tg *target) setCallbacks(t *testing.T, institution string, callbacks ...string) {
	t.Helper()
	path := "/admin/applications/" + synth.AppID(institution)
	status, before := tg.adminDo(t, "GET", path, nil)
	if status != 200 {
		t.Fatalf("GET %s: %d %s", path, status, clip(before))
	}
	var app map[string]any
	if err := json.Unmarshal(before, &app); err != nil {
		t.Fatal(err)
	}
	app["callbacks"] = callbacks
	if status, body := tg.adminDo(t, "PUT", path, app); status != 200 {
		t.Fatalf("PUT %s with callbacks %q: %d %s", path, callbacks, status, clip(body))
	}
	t.Cleanup(func() {
		var old map[string]any
		_ = json.Unmarshal(before, &old)
		if status, body := tg.adminDo(t, "PUT", path, old); status != 200 {
			t.Errorf("restore %s: %d %s", path, status, clip(body))
		}
	})
}

// scopedToken returns an access token of institution's application with scope.
func (tg *target) scopedToken(t *testing.T, institution string, scopes ...string) string {
	t.Helper()
	secret, err := tg.st.Directory.IssueClientSecret(context.Background(), "attack", synth.AppID(institution))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := outbound.ClientToken(context.Background(), nil, tg.url+oauth.TokenPath, synth.AppID(institution), secret, scopes...)
	if err != nil {
		t.Fatalf("token for %s: %v", institution, err)
	}
	return tok
}

// subscribeMessage is a DCI subscribe to deaths with senderURI.
func subscribeMessage(senderURI string) []byte {
	ts := time.Now().UTC().Format(time.RFC3339)
	n := msgSeq.Add(1)
	return fmt.Appendf(nil, `{"header":{"version":"1.0.0","message_id":"attack-sub-%d-%d","message_ts":%q,"action":"subscribe","sender_id":"attacker","sender_uri":%q,"total_count":1},`+
		`"message":{"transaction_id":"attack-sub-t-%d-%d","subscribe_request":[{"reference_id":"r-1","timestamp":%q,"subscribe_criteria":{"reg_type":"ns:org:RegistryType:Civil","reg_event_type":"DEATH",`+
		`"frequency":{"start_time":%q,"end_time":"2030-01-01T00:00:00Z","frequency":"0 0 * * *"},"filter_type":"idtype-value","filter":{"type":"PN","value":"85061500118"},"notify_record_type":"Person"},"locale":"eng"}]}}`,
		time.Now().UnixNano(), n, ts, senderURI, time.Now().UnixNano(), n, ts, ts)
}

// ackError returns the error code of an ACK ERR, or "" for another answer.
func ackError(body []byte) string {
	var a struct {
		Message struct {
			AckStatus string `json:"ack_status"`
			Error     struct {
				Code string `json:"code"`
			} `json:"error"`
		} `json:"message"`
	}
	if json.Unmarshal(body, &a) != nil || a.Message.AckStatus != "ERR" {
		return ""
	}
	return a.Message.Error.Code
}

// trick is a URL the hub must not post to. elsewhere: a well-formed URL, refused only as
// not under the registered ones (an administrator may register it).
type trick struct {
	name, uri string
	elsewhere bool
}

// refusedURIs are callback URLs an application with the callbacks http://G (good) and
// http://P/dci (pathed) must not get answers at; A is the attacker's listener.
func refusedURIs(good, pathed, evil *recorder) []trick {
	G, P, A := good.host(), pathed.host(), evil.host()
	_, gport, _ := strings.Cut(G, ":")
	return []trick{
		{"user-info (the issue's reproduction)", "http://" + G + "@" + A + "/steal", false},
		{"user-info with a password", "http://" + G + ":pw@" + A + "/steal", false},
		{"encoded @", "http://" + G + "%40" + A + "/steal", false},
		{"backslash before @", `http://` + G + `\@` + A + `/steal`, false},
		{"backslash as a slash", `http://` + G + `\` + A + `/steal`, false},
		{"fragment before @", "http://" + G + "#@" + A + "/steal", false},
		{"fragment", "http://" + G + "/on-search#x", false},
		{"a longer port", "http://" + G + "1/steal", true},
		{"port then host", "http://" + G + "." + A + "/steal", false},
		{"port with a leading zero", "http://127.0.0.1:0" + gport + "/x", false},
		{"port 80 against a registered port", "http://127.0.0.1:80/x", true},
		{"https against http", "https://" + G + "/x", true},
		{"IPv6 loopback", "http://[::1]:" + gport + "/x", true},
		{"IPv4-mapped IPv6", "http://[::ffff:127.0.0.1]:" + gport + "/x", false},
		{"link-local", "http://169.254.169.254:" + gport + "/x", false},
		{"decimal IPv4", "http://2130706433:" + gport + "/x", false},
		{"hex IPv4", "http://0x7f.1:" + gport + "/x", false},
		{"octal IPv4", "http://017700000001:" + gport + "/x", false},
		{"octal dotted IPv4", "http://0177.0.0.1:" + gport + "/x", false},
		{"short IPv4", "http://127.1:" + gport + "/x", false},
		{"trailing dot", "http://127.0.0.1.:" + gport + "/x", false},
		{"double slash to another host", "http://" + G + "//" + A + "/steal", false},
		{"space", "http://" + G + "/on search", false},
		{"leading space", " http://" + G + "/x", false},
		{"CRLF header injection", "http://" + G + "/x\r\nHost: " + A, false},
		{"tab", "http://" + G + "/x\t", false},
		{"unicode path", "http://" + G + "/ｓteal", false},
		{"unicode dots", "http://127。0。0。1:" + gport + "/x", false},
		{"file scheme", "file:///etc/passwd", false},
		{"gopher scheme", "gopher://" + A + "/_POST", false},
		{"empty host", "http://:" + gport + "/x", false},
		{"very long", "http://" + G + "/" + strings.Repeat("a", 3000), false},
		{"beyond the path prefix", "http://" + P + "/dci-evil", true},
		{"dot segments out of the prefix", "http://" + P + "/dci/../admin/x", true},
		{"dot segments above the root", "http://" + P + "/dci/../../admin/x", true},
		{"encoded dot segments", "http://" + P + "/dci/%2e%2e/admin/x", true},
		{"mixed-case encoded dots", "http://" + P + "/dci/%2E%2e/admin/x", true},
		{"half-encoded dots", "http://" + P + "/dci/.%2e/admin/x", true},
		{"encoded slashes", "http://" + P + "/dci%2f..%2fadmin", false},
		{"encoded slash after dots", "http://" + P + "/dci/..%2Fadmin", false},
		{"encoded backslash", "http://" + P + "/dci/..%5cadmin", false},
		{"backslash dots", `http://` + P + `/dci/..\admin`, false},
		{"double slash in the path", "http://" + P + "/dci//on-search", false},
	}
}

// TestCallbackURLTricks: asynchronous searches and DCI subscribes whose sender_uri plays
// a trick on the registered callbacks are refused (ACK ERR err.sender_uri.invalid) and
// nothing reaches the attacker; URLs that are the registered ones written differently
// are accepted and the answer goes to the normalised URL; a redirect is not followed.
func TestCallbackURLTricks(t *testing.T) {
	t.Parallel()
	tg := start(t, nil)
	good, pathed, evil := listen(t), listen(t), listen(t)
	good.moved = evil.srv.URL + "/stolen"
	tg.setCallbacks(t, synth.HealthInsurer1, good.srv.URL, pathed.srv.URL+"/dci")
	token := tg.token(t, synth.HealthInsurer1)
	subToken := tg.scopedToken(t, synth.HealthInsurer1, "registry.subscribe")
	criteria := byID("UIN", synth.FixtureUIN)

	for _, tt := range refusedURIs(good, pathed, evil) {
		status, _, body := tg.dci(t, token, search{criteria: criteria, async: true, senderURI: tt.uri})
		if status != http.StatusBadRequest || ackError(body) != "err.sender_uri.invalid" {
			t.Errorf("search, %s: sender_uri %q answered %d %s; want 400 ACK ERR err.sender_uri.invalid", tt.name, tt.uri, status, clip(body))
		}
		status, _, body = tg.do(t, "POST", "/dci/crvs/registry/subscribe", subToken, "application/json", subscribeMessage(tt.uri))
		if status != http.StatusBadRequest || ackError(body) != "err.sender_uri.invalid" {
			t.Errorf("subscribe, %s: sender_uri %q answered %d %s; want 400 ACK ERR err.sender_uri.invalid", tt.name, tt.uri, status, clip(body))
		}
	}

	// The registered URLs written otherwise: accepted, answered at the normal form.
	accepted := []struct {
		name, uri string
		to        *recorder
		at        string // the request URI the listener sees
		times     int    // at least
	}{
		{"upper-case scheme", "HTTP://" + good.host() + "/upper", good, "/upper", 1},
		{"dot segments inside the prefix", "http://" + pathed.host() + "/dci/x/../on-search", pathed, "/dci/on-search", 1},
		{"encoded letters", "http://" + pathed.host() + "/%64ci/encoded", pathed, "/dci/encoded", 1},
		{"the prefix itself", "http://" + pathed.host() + "/dci", pathed, "/dci", 1},
		// The registered listener redirects to the attacker: not followed, so the
		// delivery fails and is tried again (the second try shows the first ended).
		{"a redirect", "http://" + good.host() + "/moved", good, "/moved", 2},
		{"control", good.srv.URL + "/on-search", good, "/on-search", 1},
	}
	for _, tt := range accepted {
		status, _, body := tg.dci(t, token, search{criteria: criteria, async: true, senderURI: tt.uri})
		if status != http.StatusAccepted {
			t.Errorf("search, %s: sender_uri %q answered %d %s; want 202", tt.name, tt.uri, status, clip(body))
		}
	}
	status, _, body := tg.do(t, "POST", "/dci/crvs/registry/subscribe", subToken, "application/json", subscribeMessage("HTTP://"+good.host()+"/subscribed"))
	if status != http.StatusAccepted {
		t.Fatalf("subscribe at the registered callback: %d %s", status, clip(body))
	}
	testwait.For(t, 20*time.Second, func() error {
		for _, tt := range accepted {
			if n := tt.to.count(tt.at); n < tt.times {
				return fmt.Errorf("%s: %d callbacks at %s, want %d; the listener got %q", tt.name, n, tt.at, tt.times, tt.to.requests())
			}
		}
		if good.count("/subscribed") == 0 {
			return fmt.Errorf("no on-subscribe at /subscribed; the listener got %q", good.requests())
		}
		return nil
	})

	// The subscription's push endpoint is the normal form of the callback.
	code := regexp.MustCompile(`"code":\s*"(sub-[0-9a-f]+)"`).FindSubmatch(good.bodyOf("/subscribed"))
	if code == nil {
		t.Fatalf("on-subscribe without a code: %s", clip(good.bodyOf("/subscribed")))
	}
	t.Cleanup(func() { tg.adminDo(t, "DELETE", "/admin/subscriptions/"+string(code[1]), nil) })
	sub, _, err := directory.Get[directory.Subscription](context.Background(), tg.st.Directory, string(code[1]))
	if want := good.srv.URL + "/subscribed"; err != nil || sub.Endpoint != want {
		t.Errorf("subscription %s: endpoint %q, %v; want %q", code[1], sub.Endpoint, err, want)
	}

	if got := evil.requests(); len(got) > 0 {
		t.Errorf("the attacker's listener got %q; want nothing", got)
	}
	for _, u := range pathed.requests() {
		if u != "/dci/on-search" && u != "/dci/encoded" && u != "/dci" {
			t.Errorf("the listener of http://P/dci got %q, outside the prefix", u)
		}
	}
}

// TestEndpointsRefusedAtRegistration: the admin API refuses callbacks, subscription
// endpoints and service endpoints that play a trick, naming the field, and keeps the
// normal form of those it accepts.
func TestEndpointsRefusedAtRegistration(t *testing.T) {
	t.Parallel()
	tg := start(t, nil)
	good, pathed, evil := listen(t), listen(t), listen(t)
	app := "/admin/applications/" + synth.AppID(synth.HealthInsurer1)
	status, before := tg.adminDo(t, "GET", app, nil)
	if status != 200 {
		t.Fatalf("GET %s: %d", app, status)
	}
	put := func(field string, value any) (int, []byte, map[string]any) {
		var rec map[string]any
		_ = json.Unmarshal(before, &rec)
		rec[field] = value
		status, body := tg.adminDo(t, "PUT", app, rec)
		var out map[string]any
		_ = json.Unmarshal(body, &out)
		return status, body, out
	}
	t.Cleanup(func() {
		var rec map[string]any
		_ = json.Unmarshal(before, &rec)
		tg.adminDo(t, "PUT", app, rec)
	})
	fieldOf := func(body []byte) string {
		var e struct {
			Error struct {
				Field string `json:"field"`
			} `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return e.Error.Field
	}
	for _, tt := range refusedURIs(good, pathed, evil) {
		if tt.elsewhere {
			continue
		}
		if status, body, _ := put("callbacks", []string{tt.uri}); status != 400 || fieldOf(body) != "callbacks[0]" {
			t.Errorf("callback, %s: %q: %d %s; want 400 on callbacks[0]", tt.name, tt.uri, status, clip(body))
		}
		sub := map[string]any{"id": "attack-url-sub", "institution": synth.PensionFund, "event_types": []string{"death"},
			"mode": "push", "endpoint": tt.uri}
		if status, body := tg.adminDo(t, "POST", "/admin/subscriptions", sub); status != 400 || fieldOf(body) != "endpoint" {
			t.Errorf("subscription, %s: %q: %d %s; want 400 on endpoint", tt.name, tt.uri, status, clip(body))
			tg.adminDo(t, "DELETE", "/admin/subscriptions/attack-url-sub", nil)
		}
		svc := map[string]any{"id": "attack-url-svc", "institution": synth.CivilRegistry, "registry": "other", "name": "x",
			"fields": []string{"given_name"}, "endpoint": tt.uri}
		if status, body := tg.adminDo(t, "POST", "/admin/services", svc); status != 400 || fieldOf(body) != "endpoint" {
			t.Errorf("service, %s: %q: %d %s; want 400 on endpoint", tt.name, tt.uri, status, clip(body))
			tg.adminDo(t, "DELETE", "/admin/services/attack-url-svc", nil)
		}
	}
	// A prefix with a query says nothing of where answers may go.
	if status, body, _ := put("callbacks", []string{good.srv.URL + "/dci?x=1"}); status != 400 {
		t.Errorf("callback with a query: %d %s; want 400", status, clip(body))
	}
	// Accepted, in normal form: scheme and host in lower case, no default port, no dot
	// segments, unreserved characters decoded.
	status, body, out := put("callbacks", []string{"HTTP://LocalHost:80/a/./b/../%64ci/", "https://Example.ORG:443"})
	if status != 200 {
		t.Fatalf("callbacks written otherwise: %d %s", status, clip(body))
	}
	if got, _ := json.Marshal(out["callbacks"]); string(got) != `["http://localhost/a/dci/","https://example.org"]` {
		t.Errorf("callbacks stored as %s; want the normal forms", got)
	}
}

// TestEndpointsRefusedAtUse: a transaction and a subscription stored before the rules
// (written here straight into the stores, as the API now refuses them) get nothing
// delivered at their bad URLs; a push subscriber's redirect is not followed.
func TestEndpointsRefusedAtUse(t *testing.T) {
	t.Parallel()
	tg := start(t, nil)
	good, evil := listen(t), listen(t)
	good.moved = evil.srv.URL + "/stolen"
	ctx := context.Background()
	steal := "http://" + good.host() + "@" + evil.host() + "/steal"

	// An asynchronous search acknowledged by an older hub.
	tg.setCallbacks(t, synth.HealthInsurer1, good.srv.URL)
	old := txn.Txn{CorrelationID: fmt.Sprintf("attack-old-%d", time.Now().UnixNano()), Client: synth.AppID(synth.HealthInsurer1),
		Sender: "attacker", MessageID: fmt.Sprintf("attack-old-m-%d", time.Now().UnixNano()), TransactionID: "attack-old-t",
		Registry: "crvs", Action: "search", Mode: txn.Async, Status: txn.Received,
		Request: message("search", "", steal, byID("UIN", synth.FixtureUIN)), CallbackURI: steal, NextAttempt: time.Now()}
	if _, err := tg.st.Hub.Txns().Create(ctx, old); err != nil {
		t.Fatal(err)
	}

	// Push subscriptions of the pension fund to deaths: one stored with the attacker's
	// URL behind a user-info, one at a listener that redirects to the attacker, one control.
	subs := map[string]string{"attack-url-old": steal, "attack-url-moved": good.srv.URL + "/moved-push", "attack-url-control": good.srv.URL + "/push"}
	for id, endpoint := range subs {
		doc, _ := json.Marshal(directory.Subscription{ID: id, Institution: synth.PensionFund, EventTypes: []string{"death"},
			Mode: directory.ModePush, Endpoint: endpoint})
		if _, err := tg.st.Directory.Store().PutRecord(ctx, "attack", directory.Record{Kind: directory.KindSubscription, Key: id,
			Owner: synth.PensionFund, Doc: doc}, directory.AnyVersion); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tg.adminDo(t, "DELETE", "/admin/subscriptions/"+id, nil) })
	}
	// The deliverers start within a second of the subscriptions (30 s allowed: a loaded
	// machine has taken more than 10); a death then.
	testwait.For(t, 30*time.Second, func() error {
		status, body := tg.adminDo(t, "GET", "/admin/events", nil)
		if status != 200 || !strings.Contains(string(body), "attack-url-control") {
			return fmt.Errorf("the control subscription has no deliverer yet: %d %s", status, clip(body))
		}
		return nil
	})
	seq := tg.death(t, synth.PensionFund)
	testwait.For(t, 30*time.Second, func() error {
		if n := good.count("/push"); n == 0 {
			return fmt.Errorf("the control subscription got no push; the listener got %q", good.requests())
		}
		if n := good.count("/moved-push"); n < 2 {
			return fmt.Errorf("%d pushes at the redirecting listener; want 2 (the redirect not followed, the push tried again)", n)
		}
		status, body := tg.adminDo(t, "GET", fmt.Sprintf("/admin/events/deliveries?id=civil:%d", seq), nil)
		if status != 200 || !regexp.MustCompile(`"state":\s*"(failed|delivered)"[^}]*"subscription":\s*"attack-url-old"`).Match(body) {
			return fmt.Errorf("no outcome yet for the old subscription: %d %s", status, clip(body))
		}
		cur, err := tg.st.Hub.Txns().Get(ctx, old.CorrelationID)
		if err != nil || cur.LastError == "" && cur.Delivered.IsZero() {
			return fmt.Errorf("the old transaction is not tried yet: %+v %v", cur.LastError, err)
		}
		return nil
	})
	if cur, _ := tg.st.Hub.Txns().Get(ctx, old.CorrelationID); !cur.Delivered.IsZero() {
		t.Errorf("the old transaction was delivered (to %s)", cur.CallbackURI)
	}
	if got := evil.requests(); len(got) > 0 {
		t.Errorf("the attacker's listener got %q; want nothing", got)
	}
}

// death registers the death of a living person on whom institution holds a file, and
// returns the event's seq.
func (tg *target) death(t *testing.T, institution string) int64 {
	t.Helper()
	for _, f := range tg.files(t, institution, today(), 200) {
		p, err := tg.st.Civil.Population().Person(context.Background(), f.Person)
		if err != nil || !p.DeathDate.IsZero() {
			continue
		}
		status, body := tg.adminDo(t, "POST", "/admin/civil/events", map[string]string{"type": "death", "person": f.Person, "date": today().String()})
		if status != http.StatusCreated {
			t.Fatalf("death of %s: %d %s", f.Person, status, clip(body))
		}
		var ev struct {
			Seq int64 `json:"seq"`
		}
		if err := json.Unmarshal(body, &ev); err != nil || ev.Seq == 0 {
			t.Fatalf("death of %s: %s", f.Person, clip(body))
		}
		return ev.Seq
	}
	t.Fatalf("no living person with a file of %s", institution)
	return 0
}
