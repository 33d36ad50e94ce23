package attack_test

import (
	"bytes"
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
	"sync/atomic"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/hub/hubtest"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// The nation every test attacks is generated once per test binary, in a folder of its
// own that TestMain removes; each test attacks a hub on a copy of it (nation), so the
// tests run side by side (t.Parallel) and none sees another's traces.
var attacked = &hubtest.Nation{Prefix: "crossroads-attack-", Seed: 11, Persons: nationPersons, Config: config}

const nationPersons = 3000

// nation returns the test's own copy of the attack nation (hubtest.Nation.Copy).
func nation(t *testing.T) string { return attacked.Copy(t) }

// TestMain removes the nation at the end. The attacks spend most of their time waiting
// on the hub, so more of them run at once than one per processor, unless
// -test.parallel says otherwise.
func TestMain(m *testing.M) {
	flag.Parse()
	hubtest.Parallel()
	code := m.Run()
	attacked.Remove()
	os.Exit(code)
}

func today() date.Date { return date.FromTime(time.Now()) }

func config(dir string) hub.Config {
	return hub.Config{Addr: "127.0.0.1:0", Store: "sqlite:" + filepath.Join(dir, "hub.db"),
		Civil: "sqlite:" + filepath.Join(dir, "civil.db"), KeyFile: filepath.Join(dir, "hub-keys.json"),
		NATSDir: filepath.Join(dir, "nats"), Out: io.Discard}
}

// target is a hub serving the attack nation.
type target struct {
	url   string
	st    *hub.Stores
	admin string
	stop  func() // stops the hub and closes its stores; also at the end of the test
}

// start starts a hub on the nation, with the configuration changed by set (may be nil);
// it stops at the end of the test.
func start(t *testing.T, set func(*hub.Config)) *target {
	t.Helper()
	cfg := config(nation(t))
	if set != nil {
		set(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := hub.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	cfg.OnReady = func(u string) { urls <- u }
	done := make(chan error, 1)
	go func() { done <- hub.Serve(ctx, cfg, st) }()
	tg := &target{st: st, admin: attacked.Admin()}
	select {
	case tg.url = <-urls:
	case err := <-done:
		t.Fatal(err)
	}
	tg.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		st.Close()
	})
	t.Cleanup(tg.stop)
	return tg
}

// token returns an access token of institution's application.
func (tg *target) token(t *testing.T, institution string) string {
	t.Helper()
	return tg.scopedToken(t, institution)
}

// do sends a request and returns the status, the headers and the body.
func (tg *target) do(t *testing.T, method, path, bearer, contentType string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, tg.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// adminDo sends an administrator's request with a JSON body (nil: none).
func (tg *target) adminDo(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	status, _, out := tg.do(t, method, path, tg.admin, "application/json", b)
	return status, out
}

var msgSeq atomic.Int64

// search is one DCI search item: its search_criteria (JSON), sent in a message with meta.
type search struct {
	registry  string // crvs (default), sr, ibr, dr, fr
	criteria  string // the search_criteria object
	meta      string // header.meta; "" is {}
	async     bool   // registry/search instead of registry/sync/search
	senderURI string
}

// byID is the search_criteria of an identifier look-up.
func byID(idType, value string) string {
	return fmt.Sprintf(`{"query_type":"idtype-value","query":{"type":%q,"value":%q},"pagination":{"page_size":10,"page_number":1}}`, idType, value)
}

// byPredicate is the search_criteria of a predicate search; conds are predicate objects
// joined by and; sort may be "".
func byPredicate(sort string, conds ...string) string {
	var q strings.Builder
	for i, c := range conds {
		if i > 0 {
			q.WriteString(",")
		}
		if i > 0 {
			c = strings.Replace(c, "{", `{"condition":"and",`, 1)
		}
		q.WriteString(c)
	}
	s := ""
	if sort != "" {
		s = `,"sort":[` + sort + `]`
	}
	return `{"query_type":"predicate","query":[` + q.String() + `]` + s + `,"pagination":{"page_size":100,"page_number":1}}`
}

// pred is one predicate expression: attribute, operator (eq, lt, gt, le, ge, in), value.
func pred(attr, op, value string) string {
	return fmt.Sprintf(`{"expression1":{"attribute_name":%q,"operator":%q,"attribute_value":%q}}`, attr, op, value)
}

// message builds a DCI search message of the items.
func message(action, meta, senderURI string, criteria ...string) []byte {
	ts := time.Now().UTC().Format(time.RFC3339)
	if meta == "" {
		meta = "{}"
	}
	var items strings.Builder
	for i, c := range criteria {
		if i > 0 {
			items.WriteString(",")
		}
		fmt.Fprintf(&items, `{"reference_id":"r-%d","timestamp":%q,"search_criteria":%s,"locale":"eng"}`, i+1, ts, c)
	}
	n := msgSeq.Add(1)
	uri := ""
	if senderURI != "" {
		uri = fmt.Sprintf(`,"sender_uri":%q`, senderURI)
	}
	return fmt.Appendf(nil, `{"signature":"","header":{"version":"1.0.0","message_id":"attack-%d-%d","message_ts":%q,"action":%q,"sender_id":"attacker","total_count":%d,"meta":%s%s},`+
		`"message":{"transaction_id":"attack-t-%d","search_request":[%s]}}`, time.Now().UnixNano(), n, ts, action, len(criteria), meta, uri, n, items.String())
}

// dci sends s with token and returns the status, headers and body.
func (tg *target) dci(t *testing.T, token string, s search) (int, http.Header, []byte) {
	t.Helper()
	reg := s.registry
	if reg == "" {
		reg = "crvs"
	}
	path := "/dci/" + reg + "/registry/sync/search"
	if s.async {
		path = "/dci/" + reg + "/registry/search"
	}
	return tg.do(t, "POST", path, token, "application/json", message("search", s.meta, s.senderURI, s.criteria))
}

// answer is the part of a sync search answer the tests read.
type answer struct {
	Header struct {
		Status           string `json:"status"`
		StatusReasonCode string `json:"status_reason_code"`
	} `json:"header"`
	Message struct {
		SearchResponse []struct {
			Status           string `json:"status"`
			StatusReasonCode string `json:"status_reason_code"`
			StatusReasonMsg  string `json:"status_reason_message"`
			Data             struct {
				RegRecords json.RawMessage `json:"reg_records"`
			} `json:"data"`
			Pagination struct {
				TotalCount int `json:"total_count"`
			} `json:"pagination"`
		} `json:"search_response"`
	} `json:"message"`
	Errors []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

func decodeAnswer(t *testing.T, body []byte) answer {
	t.Helper()
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("answer %s: %v", clip(body), err)
	}
	return a
}

// records decodes the records of the first item of a sync answer.
func (a answer) records(t *testing.T) []map[string]any {
	t.Helper()
	if len(a.Message.SearchResponse) == 0 {
		return nil
	}
	var out []map[string]any
	raw := a.Message.SearchResponse[0].Data.RegRecords
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("reg_records %s: %v", clip(raw), err)
	}
	return out
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// files lists institution's files open on day (all of them: at most limit).
func (tg *target) files(t *testing.T, institution string, day date.Date, limit int) []directory.Integration {
	t.Helper()
	fs, err := tg.st.Directory.Store().Integrations(context.Background(), directory.IntegrationQuery{Institution: institution, Day: day, Limit: limit})
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// stranger returns a living person of the register on whom institution holds no file
// at all.
func (tg *target) stranger(t *testing.T, institution string) string {
	t.Helper()
	ctx := context.Background()
	ps, err := tg.st.Civil.Population().Persons(ctx, population.Query{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if !p.DeathDate.IsZero() {
			continue
		}
		fs, err := tg.st.Directory.Store().Integrations(ctx, directory.IntegrationQuery{Person: p.Number, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		mine := false
		for _, f := range fs {
			mine = mine || f.Institution == institution
		}
		if !mine {
			return p.Number
		}
	}
	t.Fatalf("no person without a file of %s among the first 500", institution)
	return ""
}

// auditByPerson returns the audit records the hub lists for person.
func (tg *target) auditByPerson(t *testing.T, person string) []map[string]any {
	t.Helper()
	status, body := tg.adminDo(t, "GET", "/audit/persons/"+person+"/exchanges", nil)
	if status != 200 {
		t.Fatalf("exchanges of %s: %d %s", person, status, clip(body))
	}
	var out struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("exchanges of %s: %s: %v", person, clip(body), err)
	}
	return out.Items
}
