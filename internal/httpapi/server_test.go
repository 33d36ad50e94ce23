package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/httpapi"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// hub is a real server on a real SQLite store, with the bootstrap admin token.
type hub struct {
	t     *testing.T
	url   string
	token string
}

func newHub(t *testing.T) *hub {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "hub.db"), sqlstore.Hub, sqlstore.Civil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dir := directory.New(db.Directory(), nil)
	token, created, err := dir.EnsureAdmin(ctx)
	if err != nil || !created {
		t.Fatalf("EnsureAdmin = %v, %v", created, err)
	}
	srv := httptest.NewServer(httpapi.NewServer(httpapi.Deps{Directory: dir, Population: db.Population(), Ready: db.Ready,
		Log: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))}))
	t.Cleanup(srv.Close)
	return &hub{t: t, url: srv.URL, token: token}
}

// do sends a request and decodes the JSON answer into out (when not nil); it returns the status.
func (h *hub) do(method, path, contentType, body string, out any) int {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.url+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			h.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

func (h *hub) mustDo(method, path, body string, want int) {
	h.t.Helper()
	var out json.RawMessage
	if got := h.do(method, path, "application/json", body, &out); got != want {
		h.t.Fatalf("%s %s = %d %s; want %d", method, path, got, out, want)
	}
}

type apiError struct {
	Error struct{ Code, Field, Message string } `json:"error"`
}

func seed(h *hub) {
	h.mustDo("POST", "/admin/institutions", `{"code":"CIVIL-REGISTRY","name":"Civil registry","sector":"civil","kind":"authentic_source","enterprise":"0403.170.701","contact":{}}`, 201)
	h.mustDo("POST", "/admin/institutions", `{"code":"PENSION-FUND","name":"Pension fund","sector":"pensions","kind":"fund","enterprise":"","contact":{}}`, 201)
	h.mustDo("POST", "/admin/services", `{"id":"civil-person","institution":"CIVIL-REGISTRY","registry":"civil","name":"Person","data_sets":["identity"],"fields":["given_name","family_name","death_date"],"endpoint":"builtin:civil"}`, 201)
	h.mustDo("POST", "/admin/authorizations", `{"id":"AUTH-1","institution":"PENSION-FUND","service":"civil-person","fields":["given_name","death_date"],"purpose":"pay pensions","legal_basis":"Pensions Act","capacities":["001"],"valid_from":"2020-01-01","valid_to":null,"decision":"Deliberation 20/001"}`, 201)
}

func TestHealthAndReady(t *testing.T) {
	h := newHub(t)
	if got := h.do("GET", "/healthz", "", "", nil); got != 200 {
		t.Errorf("GET /healthz = %d; want 200", got)
	}
	if got := h.do("GET", "/readyz", "", "", nil); got != 200 {
		t.Errorf("GET /readyz = %d; want 200", got)
	}
}

func TestAdminNeedsToken(t *testing.T) {
	h := newHub(t)
	for _, token := range []string{"", "cra.bootstrap.wrong", "garbage", "crc.bootstrap." + strings.Repeat("A", 43)} {
		h.token = token
		var e apiError
		if got := h.do("GET", "/admin/institutions", "", "", &e); got != 401 || e.Error.Code != "unauthorized" {
			t.Errorf("GET /admin/institutions with token %q = %d %+v; want 401 unauthorized", token, got, e)
		}
	}
}

func TestRecordsLifecycle(t *testing.T) {
	h := newHub(t)
	seed(h)
	public := &hub{t: t, url: h.url}
	var page directory.Page[directory.Authorization]
	if got := public.do("GET", "/public/authorizations?service=civil-person", "", "", &page); got != 200 || len(page.Items) != 1 {
		t.Fatalf("public authorizations = %d %+v; want 200 with one", got, page)
	}
	if got := public.do("GET", "/admin/authorizations", "", "", nil); got != 401 {
		t.Errorf("admin list without a token = %d; want 401", got)
	}
	var insts directory.Page[directory.Institution]
	h.do("GET", "/admin/institutions?limit=1", "", "", &insts)
	if len(insts.Items) != 1 || insts.Items[0].Code != "CIVIL-REGISTRY" || insts.Next != "CIVIL-REGISTRY" {
		t.Fatalf("institutions page 1 = %+v; want CIVIL-REGISTRY and a cursor", insts)
	}
	h.do("GET", "/admin/institutions?limit=1&after="+insts.Next, "", "", &insts)
	if len(insts.Items) != 1 || insts.Items[0].Code != "PENSION-FUND" {
		t.Fatalf("institutions page 2 = %+v; want PENSION-FUND", insts)
	}
	var inst directory.Institution
	if got := h.do("GET", "/admin/institutions/CIVIL-REGISTRY", "", "", &inst); got != 200 || inst.Enterprise != "0403170701" {
		t.Errorf("GET institution = %d %+v; want the enterprise number in wire form", got, inst)
	}
	for _, path := range []string{"/admin/authorizations/AUTH-1", "/admin/services/civil-person", "/admin/institutions/PENSION-FUND"} {
		h.mustDo("DELETE", path, "", 204)
		h.mustDo("GET", path, "", 404)
	}
	var hist directory.Page[directory.Change]
	h.do("GET", "/admin/history?kind=authorization&key=AUTH-1", "", "", &hist)
	if len(hist.Items) != 2 || hist.Items[1].Op != "delete" || hist.Items[1].Before == nil {
		t.Errorf("history of a deleted authorization = %+v; want create and delete with the last state", hist.Items)
	}
}

func TestBadInputNamesTheField(t *testing.T) {
	h := newHub(t)
	seed(h)
	tests := []struct {
		method, path, body string
		status             int
		field              string
	}{
		{"POST", "/admin/institutions", `{"code":"X1","name":"x","sector":"s","kind":"k","colour":"red"}`, 400, "colour"},
		{"POST", "/admin/institutions", `{"code":"x","name":"x","sector":"s","kind":"k"}`, 400, "code"},
		{"POST", "/admin/institutions", `{"code":"PENSION-FUND","name":"x","sector":"s","kind":"k"}`, 409, "code"},
		{"POST", "/admin/authorizations", `{"id":"AUTH-2","institution":"MUSEUM","service":"civil-person","fields":["sex"],"purpose":"p","legal_basis":"l","valid_from":"2020-01-01","decision":"d"}`, 400, "institution"},
		{"POST", "/admin/authorizations", `{"id":"AUTH-2","institution":"PENSION-FUND","service":"nope","fields":["sex"],"purpose":"p","legal_basis":"l","valid_from":"2020-01-01","decision":"d"}`, 400, "service"},
		{"POST", "/admin/authorizations", `{"id":"AUTH-2","institution":"PENSION-FUND","service":"civil-person","fields":["sex"],"purpose":"p","legal_basis":"l","valid_from":"2020-01-01","valid_to":"2019-01-01","decision":"d"}`, 400, "valid_to"},
		{"POST", "/admin/authorizations", `{"id":"AUTH-2","valid_from":"2020-02-30"}`, 400, "body"},
		{"POST", "/admin/authorizations", `{"id":7}`, 400, "id"},
		{"PUT", "/admin/institutions/OTHER", `{"code":"PENSION-FUND","name":"x","sector":"s","kind":"k"}`, 400, "body"},
		{"DELETE", "/admin/institutions/PENSION-FUND", ``, 409, "code"},
		{"DELETE", "/admin/services/civil-person", ``, 409, "id"},
		{"GET", "/admin/institutions?colour=red", ``, 400, "colour"},
		{"GET", "/admin/institutions?limit=0", ``, 400, "limit"},
		{"GET", "/admin/persons/85073003329/files", ``, 400, "person"},
	}
	for _, tt := range tests {
		var e apiError
		got := h.do(tt.method, tt.path, "application/json", tt.body, &e)
		if got != tt.status || e.Error.Field != tt.field {
			t.Errorf("%s %s %s = %d field %q (%s); want %d field %q", tt.method, tt.path, tt.body, got, e.Error.Field, e.Error.Message, tt.status, tt.field)
		}
	}
	var e apiError
	if got := h.do("POST", "/admin/institutions", "text/plain", `{}`, &e); got != http.StatusUnsupportedMediaType || e.Error.Field != "Content-Type" {
		t.Errorf("POST with text/plain = %d %+v; want 415 on Content-Type", got, e)
	}
	big := `{"code":"` + strings.Repeat("x", 1<<20) + `"}`
	if got := h.do("POST", "/admin/institutions", "application/json", big, &e); got != http.StatusRequestEntityTooLarge || e.Error.Field != "body" {
		t.Errorf("POST of %d bytes = %d %+v; want 413 on body", len(big), got, e)
	}
}

func TestVersionsAndHistory(t *testing.T) {
	h := newHub(t)
	seed(h)
	body := `{"code":"PENSION-FUND","name":"National pension fund","sector":"pensions","kind":"fund","contact":{}}`
	req, _ := http.NewRequest("PUT", h.url+"/admin/institutions/PENSION-FUND", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("If-Match", `"7"`)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 409 {
		t.Errorf("PUT with stale If-Match = %d; want 409", resp.StatusCode)
	}
	req, _ = http.NewRequest("PUT", h.url+"/admin/institutions/PENSION-FUND", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("If-Match", `"1"`)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != `"2"` {
		t.Errorf("PUT with current If-Match = %d ETag %s; want 200 \"2\"", resp.StatusCode, resp.Header.Get("ETag"))
	}
	var hist directory.Page[directory.Change]
	h.do("GET", "/admin/history?kind=institution&key=PENSION-FUND", "", "", &hist)
	if len(hist.Items) != 2 || hist.Items[1].Op != "update" || !bytes.Contains(hist.Items[1].Before, []byte(`"Pension fund"`)) ||
		hist.Items[1].Actor != "admin:bootstrap" {
		t.Errorf("history = %+v; want create then update by admin:bootstrap with the old name before", hist.Items)
	}
	var secrets directory.Page[directory.Change]
	h.do("GET", "/admin/history?kind=secret", "", "", &secrets)
	for _, c := range secrets.Items {
		if c.Before != nil || c.After != nil {
			t.Errorf("history of a secret shows %s / %s; want nothing", c.Before, c.After)
		}
	}
}

func TestIntegrationBatch(t *testing.T) {
	h := newHub(t)
	seed(h)
	good := "person,institution,capacity,begin,end\n" +
		"85073003328,PENSION-FUND,001,2020-01-01,\n" +
		"01010100225,PENSION-FUND,001,2021-01-01,2021-12-31\n"
	var rep directory.Report
	if got := h.do("POST", "/admin/integrations", "text/csv", good, &rep); got != 200 || rep.Applied != 2 {
		t.Fatalf("good batch = %d %+v; want 200 with 2 applied", got, rep)
	}
	bad := "person,institution,capacity,begin\n" +
		"85073003328,PENSION-FUND,001,2022-01-01\n" + // overlaps the open period
		"85073003328,PENSION-FUND,002,2022-01-01\n" + // fine
		"85073003329,PENSION-FUND,002,2022-01-01\n" + // bad check digits
		"85073003328,MUSEUM,000,2022-01-01\n" // unknown institution
	rep = directory.Report{}
	// Atomic: the lines that fail their own checks are rejected; the others are not even
	// tried against the store (skipped), and nothing is written.
	if got := h.do("POST", "/admin/integrations", "text/csv", bad, &rep); got != 422 || rep.Applied != 0 || rep.Rejected != 2 || rep.Skipped != 2 {
		t.Fatalf("atomic bad batch = %d %+v; want 422, 0 applied, 2 rejected, 2 skipped", got, rep)
	}
	wantFields := map[int]string{4: "person", 5: "institution"}
	for _, l := range rep.Lines {
		if f, ok := wantFields[l.Line]; ok && (l.Status != "rejected" || l.Field != f) {
			t.Errorf("line %d = %+v; want rejected on %q", l.Line, l, f)
		}
	}
	rep = directory.Report{}
	if got := h.do("POST", "/admin/integrations?mode=partial", "text/csv", bad, &rep); got != 200 || rep.Applied != 1 || rep.Rejected != 3 {
		t.Fatalf("partial bad batch = %d %+v; want 200, 1 applied, 3 rejected", got, rep)
	}
	if l := rep.Lines[0]; l.Line != 2 || l.Field != "begin" {
		t.Errorf("partial batch line 2 = %+v; want rejected on begin (overlap)", l)
	}
	var files struct{ Files []directory.Integration }
	h.do("GET", "/admin/persons/85.07.30-033.28/files?day=2023-06-01", "", "", &files)
	if len(files.Files) != 2 {
		t.Errorf("files of 85073003328 = %+v; want 2 (capacities 001 and 002)", files.Files)
	}
	files.Files = nil
	h.do("GET", "/admin/persons/01010100225/files?day=2023-06-01", "", "", &files)
	if len(files.Files) != 0 {
		t.Errorf("files of 01010100225 after its period = %+v; want none", files.Files)
	}
	end := `{"lines":[{"action":"end","person":"85073003328","institution":"PENSION-FUND","capacity":"001","begin":"2020-01-01","end":"2022-06-30"}]}`
	rep = directory.Report{}
	if got := h.do("POST", "/admin/integrations", "application/json", end, &rep); got != 200 || rep.Applied != 1 {
		t.Fatalf("end line = %d %+v; want applied", got, rep)
	}
	files.Files = nil
	h.do("GET", "/admin/persons/85073003328/files?day=2023-06-01", "", "", &files)
	if len(files.Files) != 1 || files.Files[0].Capacity != "002" {
		t.Errorf("files after ending 001 = %+v; want only 002", files.Files)
	}
	var list directory.Page[directory.Integration]
	h.do("GET", "/admin/integrations?institution=PENSION-FUND&limit=2", "", "", &list)
	if len(list.Items) != 2 || list.Next == "" {
		t.Fatalf("integrations page 1 = %+v; want 2 and a next cursor", list)
	}
	h.do("GET", "/admin/integrations?institution=PENSION-FUND&limit=2&after="+list.Next, "", "", &list)
	if len(list.Items) != 1 {
		t.Errorf("integrations page 2 = %+v; want the last one", list)
	}
}
