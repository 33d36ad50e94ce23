package hub_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/dci/dcitest"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/hub/hubtest"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// The test nation (3,000 persons) is generated once per test binary, in a folder of its
// own that TestMain removes; each test runs on a copy of it (testNation), so tests can
// run side by side (t.Parallel) and none sees another's changes.
var nation = &hubtest.Nation{Prefix: "crossroads-hub-test-", Seed: 7, Persons: 3000, Config: config}

// TestMain removes the test nation at the end. The hub's tests spend most of their time
// waiting (for a push, a retry, a hub to stop), so more of them run at once than the
// default of one per processor, unless -test.parallel says otherwise.
func TestMain(m *testing.M) {
	flag.Parse()
	hubtest.Parallel()
	code := m.Run()
	nation.Remove()
	bigNation.Remove()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// testNation returns the test's own copy of the test nation (hubtest.Nation.Copy).
func testNation(t *testing.T) string { return nation.Copy(t) }

func config(dir string) hub.Config {
	return hub.Config{Addr: "127.0.0.1:0", Store: "sqlite:" + filepath.Join(dir, "hub.db"),
		Civil: "sqlite:" + filepath.Join(dir, "civil.db"), KeyFile: filepath.Join(dir, "hub-keys.json"), Out: io.Discard}
}

// running is a hub serving on the test's copy of the nation.
type running struct {
	url   string
	st    *hub.Stores
	admin string
	stop  func() // stops the hub and closes its stores; also at the end of the test
}

func startHub(t *testing.T, overHTTP bool) *running {
	t.Helper()
	return startHubWith(t, func(c *hub.Config) { c.BuiltinOverHTTP = overHTTP })
}

// startHubWith starts a hub on the test's copy of the nation with the configuration
// changed by set.
func startHubWith(t *testing.T, set func(*hub.Config)) *running {
	t.Helper()
	dir := testNation(t)
	cfg := config(dir)
	set(&cfg)
	return serveHub(t, cfg)
}

// serveHub opens the stores of cfg and serves them until the test ends or the hub's
// stop is called.
func serveHub(t *testing.T, cfg hub.Config) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := hub.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &running{st: st, admin: nation.Admin()}
	urls := make(chan string, 1)
	cfg.OnReady = func(u string) { urls <- u }
	done := make(chan error, 1)
	go func() { done <- hub.Serve(ctx, cfg, st) }()
	select {
	case r.url = <-urls:
	case err := <-done:
		t.Fatal(err)
	}
	r.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		st.Close()
	})
	t.Cleanup(r.stop)
	return r
}

// setCallbacks registers callbacks as the callback URLs of institution's application.
func (r *running) setCallbacks(t *testing.T, institution string, callbacks []string) {
	t.Helper()
	ctx := context.Background()
	app, _, err := directory.Get[directory.Application](ctx, r.st.Directory, synth.AppID(institution))
	if err != nil {
		t.Fatal(err)
	}
	app.Callbacks = callbacks
	if _, _, err := directory.Put(ctx, r.st.Directory, "test", app, directory.AnyVersion); err != nil {
		t.Fatal(err)
	}
}

func (r *running) token(t *testing.T, institution string) string {
	t.Helper()
	return r.tokenWithScope(t, institution)
}

// search sends one DCI sync search by person number and returns the status and body.
func (r *running) search(t *testing.T, token, idType, value, meta string) (int, []byte) {
	t.Helper()
	ts := time.Now().UTC().Format(time.RFC3339)
	if meta == "" {
		meta = "{}"
	}
	body := fmt.Sprintf(`{"signature":"","header":{"version":"1.0.0","message_id":"m-%d","message_ts":%q,"action":"search","sender_id":"test","total_count":1,"meta":%s},`+
		`"message":{"transaction_id":"t-1","search_request":[{"reference_id":"r-1","timestamp":%q,"search_criteria":{"query_type":"idtype-value","query":{"type":%q,"value":%q},"pagination":{"page_size":10,"page_number":1}},"locale":"eng"}]}}`,
		time.Now().UnixNano(), ts, meta, ts, idType, value)
	req, _ := http.NewRequest("POST", r.url+"/dci/crvs/registry/sync/search", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (r *running) auditSize(t *testing.T) int64 {
	t.Helper()
	resp, err := http.Get(r.url + "/audit/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cp struct {
		Checkpoint audit.Checkpoint
		LogSize    int64 `json:"log_size"`
	}
	json.NewDecoder(resp.Body).Decode(&cp)
	return cp.LogSize
}

func TestExchange(t *testing.T) {
	t.Parallel()
	for _, overHTTP := range []bool{false, true} {
		t.Run(fmt.Sprintf("overHTTP=%v", overHTTP), func(t *testing.T) { testExchange(t, overHTTP) })
	}
}

func testExchange(t *testing.T, overHTTP bool) {
	r := startHub(t, overHTTP)
	health := r.token(t, synth.HealthInsurer1)
	city := r.token(t, synth.CityPrefix+"R01")
	museum := r.token(t, synth.Museum)
	tax := r.token(t, synth.TaxOffice)
	pension := r.token(t, synth.PensionFund)
	spec := dcitest.Spec(t, "crvs_api_v1.0.0.yaml")
	person := synth.FixtureNumber // HEALTH-INSURER-1 and CITY-R01 have files on the fixture person
	tests := []struct {
		name, token, idType, value, meta string
		status                           int
		wantData, noData                 []string
	}{
		{"insurer by person number", health, "PN", person, "", 200, []string{`"Test"`, `"family_name"`}, []string{`"marital_status"`}},
		{"insurer by BRN", health, "BRN", synth.FixtureBRN, "", 200, []string{person}, nil},
		{"city sees names and address only", city, "PN", person, "", 200, []string{`"address"`}, []string{`"birth_date"`, `"sex"`}},
		{"field outside the authorization", city, "PN", person, `{"fields":["birth_date"]}`, 403, nil, []string{`"Test"`}},
		{"purpose not granted", health, "PN", person, `{"purpose":"marketing"}`, 403, nil, []string{`"Test"`}},
		{"person not in the asker's directory", pension, "PN", person, "", 403, nil, []string{`"Test"`, `"family_name"`}},
		{"no authorization at all", museum, "PN", person, "", 403, nil, []string{`"Test"`}},
		{"expired authorization", tax, "PN", person, "", 403, nil, []string{`"Test"`}},
		{"no token", "", "PN", person, "", 401, nil, []string{`"Test"`}},
		{"forged token", health[:len(health)-4] + "AAAA", "PN", person, "", 401, nil, []string{`"Test"`}},
	}
	for _, tt := range tests {
		before := r.auditSize(t)
		status, body := r.search(t, tt.token, tt.idType, tt.value, tt.meta)
		if status != tt.status {
			t.Errorf("%s: status %d (%s); want %d", tt.name, status, body, tt.status)
			continue
		}
		for _, s := range tt.wantData {
			if !strings.Contains(string(body), s) {
				t.Errorf("%s: answer lacks %s: %s", tt.name, s, body)
			}
		}
		for _, s := range tt.noData {
			if strings.Contains(string(body), s) {
				t.Errorf("%s: answer carries %s, which it must not: %s", tt.name, s, body)
			}
		}
		if status == 200 || status == 401 || status == 403 {
			dcitest.ValidateResponse(t, spec, "/registry/sync/search", status, body)
		}
		if after := r.auditSize(t); after != before+1 {
			t.Errorf("%s: audit log grew from %d to %d; want one record", tt.name, before, after)
		}
	}
}

func TestBatchConsultation(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	token := r.token(t, synth.HealthInsurer1)
	body := "person\n" + synth.FixtureNumber + "\n\n85073003328\nnot-a-number\n" + synth.FixtureNumber + "\n"
	req, _ := http.NewRequest("POST", r.url+"/exchange/batch?fields=given_name", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Authorization", "Bearer "+token)
	before := r.auditSize(t)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	var lines []map[string]any
	for dec.More() {
		var l map[string]any
		if err := dec.Decode(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 5 {
		t.Fatalf("batch answered %d lines: %v; want 4 persons and a summary", len(lines), lines)
	}
	want := []struct {
		line   float64
		status float64
	}{{2, 200}, {4, 403}, {5, 400}, {6, 200}}
	for i, w := range want {
		l := lines[i]
		if l["line"] != w.line || l["status"] != w.status || l["audit"] == nil {
			t.Errorf("batch line %d = %v; want line %v status %v with an audit record", i, l, w.line, w.status)
		}
	}
	if rec, _ := lines[0]["record"].(map[string]any); rec["given_name"] != "Test" || rec["family_name"] != nil {
		t.Errorf("batch record = %v; want only the given name asked for", rec)
	}
	sum := lines[4]
	if sum["done"] != true || sum["answered"] != 2.0 || sum["refused"] != 1.0 || sum["other"] != 1.0 {
		t.Errorf("summary = %v", sum)
	}
	if after := r.auditSize(t); after != before+1 {
		t.Errorf("audit log grew by %d; want 1, the chunk of these persons", after-before)
	}
}

// TestLocations: the nation's regions and municipalities, valid against the locations API.
func TestLocations(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	resp, err := http.Get(r.url + "/.well-known/locations.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("locations: %d %s", resp.StatusCode, body)
	}
	dcitest.ValidateResponse(t, dcitest.Spec(t, "locations_core_api_v1.0.0.yaml"), "/.well-known/locations.json", 200, body)
	var h struct {
		Locations []struct {
			ID          string  `json:"id"`
			Type        string  `json:"additional_type"`
			ContainedIn *string `json:"contained_in_place"`
		} `json:"locations"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, l := range h.Locations {
		ids[l.ID] = true
	}
	var regions, municipalities int
	for _, l := range h.Locations {
		switch {
		case l.ContainedIn == nil:
			regions++
		case ids[*l.ContainedIn]:
			municipalities++
		default:
			t.Errorf("place %s is in %s, which is not listed", l.ID, *l.ContainedIn)
		}
	}
	if regions == 0 || municipalities == 0 {
		t.Errorf("%d regions and %d municipalities; want some of each", regions, municipalities)
	}
}

// TestDCIPrefix: the registries can be mounted elsewhere, e.g. at the root.
func TestDCIPrefix(t *testing.T) {
	t.Parallel()
	r := startHubWith(t, func(c *hub.Config) { c.DCIPrefix = "/" })
	token := r.token(t, synth.HealthInsurer1)
	ts := time.Now().UTC().Format(time.RFC3339)
	body := fmt.Sprintf(`{"header":{"version":"1.0.0","message_id":"p-%d","message_ts":%q,"action":"search","sender_id":"test","total_count":1},`+
		`"message":{"transaction_id":"t-1","search_request":[{"reference_id":"r-1","timestamp":%q,"search_criteria":{"query_type":"idtype-value","query":{"type":"PN","value":%q}},"locale":"eng"}]}}`,
		time.Now().UnixNano(), ts, ts, synth.FixtureNumber)
	for path, want := range map[string]int{"/crvs/registry/sync/search": 200, "/dci/crvs/registry/sync/search": 404} {
		req, _ := http.NewRequest("POST", r.url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("POST %s: %d; want %d", path, resp.StatusCode, want)
		}
	}
	if err := hub.Serve(context.Background(), hub.Config{Addr: "127.0.0.1:0", DCIPrefix: "dci/"}, r.st); err == nil || !strings.Contains(err.Error(), "dci-prefix") {
		t.Errorf("Serve with prefix dci/: %v; want an error naming --dci-prefix", err)
	}
}

// TestSyncDuplicate: a synchronous search whose message id the application already used
// is refused with rjct.message_id.duplicate, not processed again, and recorded — also
// after the hub restarted (it remembers recent message ids from the audit log).
func TestSyncDuplicate(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	ts := time.Now().UTC().Format(time.RFC3339)
	body := fmt.Sprintf(`{"header":{"version":"1.0.0","message_id":"dup-%d","message_ts":%q,"action":"search","sender_id":"test","total_count":1},`+
		`"message":{"transaction_id":"t-1","search_request":[{"reference_id":"r-1","timestamp":%q,"search_criteria":{"query_type":"idtype-value","query":{"type":"PN","value":%q}},"locale":"eng"}]}}`,
		time.Now().UnixNano(), ts, ts, synth.FixtureNumber)
	spec := dcitest.Spec(t, "crvs_api_v1.0.0.yaml")
	before := r.auditSize(t)
	for i, want := range []string{`"Test"`, dci.RjctMessageIDDuplicate, dci.RjctMessageIDDuplicate} {
		if i == 2 {
			r.stop()
			r = startHub(t, false)
		}
		req, _ := http.NewRequest("POST", r.url+"/dci/crvs/registry/sync/search", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+r.token(t, synth.HealthInsurer1))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("send %d: %d %s; want 200 with %s", i+1, resp.StatusCode, b, want)
		}
		if i > 0 && strings.Contains(string(b), `"Test"`) {
			t.Errorf("the repeat was answered with data: %s", b)
		}
		dcitest.ValidateResponse(t, spec, "/registry/sync/search", resp.StatusCode, b)
	}
	if after := r.auditSize(t); after != before+3 {
		t.Errorf("audit log grew by %d; want 3 (the answer and two refusals)", after-before)
	}
}
