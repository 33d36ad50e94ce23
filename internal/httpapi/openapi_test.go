package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/crossroads-hub/crossroads/internal/civil"
	"github.com/crossroads-hub/crossroads/internal/derived"
	wholehub "github.com/crossroads-hub/crossroads/internal/hub"
)

// registryNames are the DCI registries the page and the document must name.
var registryNames = map[string]string{
	"crvs": "Civil registration and vital statistics",
	"sr":   "Social registry",
	"ibr":  "Integrated beneficiary registry",
	"dr":   "Disability registry",
	"fr":   "Farmer registry",
}

// dciEndpoints are the endpoints under {prefix}/{registry}/registry/.
var dciEndpoints = []string{"sync/search", "search", "sync/txn/status", "txn/status", "subscribe", "unsubscribe"}

// startFullHub runs a whole hub (exchange, OAuth, audit log, transactions) on an empty
// SQLite store, with the DCI registries under prefix, and returns its base URL.
func startFullHub(t *testing.T, prefix string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := wholehub.Config{Addr: "127.0.0.1:0", Store: "sqlite:" + filepath.Join(dir, "hub.db"), Out: io.Discard,
		DCIPrefix: prefix, OnAdminToken: func(string) error { return nil }}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := wholehub.Open(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	cfg.OnReady = func(u string) { urls <- u }
	done := make(chan error, 1)
	go func() { done <- wholehub.Serve(ctx, cfg, st) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		st.Close()
	})
	select {
	case u := <-urls:
		return u
	case err := <-done:
		done <- nil // the cleanup waits for it
		t.Fatalf("Serve with prefix %q: %v", prefix, err)
	}
	return ""
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// loadValid parses an OpenAPI document and validates it.
func loadValid(t *testing.T, b []byte) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatalf("load the OpenAPI document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	return doc
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	b, err := os.ReadFile("openapi.json") // the file the package embeds
	if err != nil {
		t.Fatal(err)
	}
	doc := loadValid(t, b)
	if doc.OpenAPI != "3.0.3" || doc.Info.Title != "Crossroads hub" {
		t.Errorf("openapi %q, title %q; want 3.0.3, Crossroads hub", doc.OpenAPI, doc.Info.Title)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/" {
		t.Errorf("servers = %+v; want one, /", doc.Servers)
	}
	for _, name := range []string{"bearerAuth", "adminBearer"} {
		s := doc.Components.SecuritySchemes[name]
		if s == nil || s.Value.Type != "http" || s.Value.Scheme != "bearer" {
			t.Errorf("security scheme %s = %+v; want HTTP bearer", name, s)
		}
	}
	for _, ep := range dciEndpoints {
		path := "/dci/{registry}/registry/" + ep
		item := doc.Paths.Find(path)
		if item == nil || item.Post == nil {
			t.Errorf("%s: not documented as a POST", path)
			continue
		}
		p := item.Parameters.GetByInAndName("path", "registry")
		if p == nil {
			t.Errorf("%s: no registry parameter", path)
			continue
		}
		var enum []string
		for _, v := range p.Schema.Value.Enum {
			enum = append(enum, v.(string))
		}
		sort.Strings(enum)
		if got := strings.Join(enum, ","); got != "crvs,dr,fr,ibr,sr" {
			t.Errorf("%s: registry enum %s; want crvs, sr, ibr, dr, fr", path, got)
		}
		if sec := item.Post.Security; sec == nil || len(*sec) != 1 || (*sec)[0]["bearerAuth"] == nil {
			t.Errorf("%s: security %v; want bearerAuth", path, sec)
		}
	}

	// The hub serves it as it is under the default prefix.
	url := startFullHub(t, "")
	resp, served := get(t, url+"/openapi.json")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || !bytes.Equal(served, b) {
		t.Errorf("GET /openapi.json = %d %s, %d bytes; want 200 application/json, the embedded document",
			resp.StatusCode, resp.Header.Get("Content-Type"), len(served))
	}
}

// TestOpenAPIRoutesExist sends a request for every documented operation to a whole hub
// and checks that the hub routes it: 401, 400, 403 and the like prove that a handler
// answered; 405, or a 404 from the router (not JSON, not a problem), prove that none did.
func TestOpenAPIRoutesExist(t *testing.T) {
	for _, prefix := range []string{"", "/", "/api/dci"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			url := startFullHub(t, prefix)
			_, b := get(t, url+"/openapi.json")
			doc := loadValid(t, b)
			fill := strings.NewReplacer("{registry}", "crvs", "{key}", "x", "{seq}", "1", "{person}", "00000000000", "{name}", "civil",
				"{kind}", "social", "{subscription}", "x", "{id}", "1", "{right}", "x")
			n := 0
			for path, item := range doc.Paths.Map() {
				for method := range item.Operations() {
					n++
					target := fill.Replace(path)
					if strings.Contains(target, "{") {
						t.Errorf("%s %s: a path parameter the test does not fill", method, path)
						continue
					}
					var body io.Reader
					if method == http.MethodPost || method == http.MethodPut {
						body = strings.NewReader("{}")
					}
					req, _ := http.NewRequest(method, url+target, body)
					if body != nil {
						req.Header.Set("Content-Type", "application/json")
					}
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					routed := resp.StatusCode != http.StatusMethodNotAllowed &&
						(resp.StatusCode != http.StatusNotFound || strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
							strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json"))
					if !routed {
						t.Errorf("%s %s (documented %s) = %d %s; the hub does not route it",
							method, target, path, resp.StatusCode, resp.Header.Get("Content-Type"))
					}
				}
			}
			if n < 50 {
				t.Errorf("%d operations documented; want every route of the hub", n)
			}
		})
	}
}

func TestOpenAPIPrefix(t *testing.T) {
	tests := []struct {
		prefix, dci, page string // page: "" when the page is not served
	}{
		{"/api", "/api/{registry}/registry/", "/api"},
		{"/api/dci", "/api/dci/{registry}/registry/", "/api/dci"},
		{"/", "/{registry}/registry/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			url := startFullHub(t, tt.prefix)
			resp, b := get(t, url+"/openapi.json")
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("GET /openapi.json = %d %s; want 200 application/json", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			doc := loadValid(t, b)
			for _, ep := range dciEndpoints {
				if doc.Paths.Value(tt.dci+ep) == nil {
					t.Errorf("no path %s%s", tt.dci, ep)
				}
			}
			for path := range doc.Paths.Map() {
				if path == "/dci" || strings.HasPrefix(path, "/dci/") {
					t.Errorf("path %s still under /dci", path)
				}
				if strings.Contains(path, "{registry}") && !strings.HasPrefix(path, tt.dci) {
					t.Errorf("DCI path %s not under %s", path, tt.dci)
				}
			}
			if got := doc.Paths.Value(tt.page) != nil; tt.page != "" && !got {
				t.Errorf("the page %s is not documented", tt.page)
			}
			if tt.page == "" && doc.Paths.Value("/dci") != nil {
				t.Errorf("the page is documented though not served")
			}
		})
	}
}

func TestDCIPage(t *testing.T) {
	url := startFullHub(t, "")
	resp, b := get(t, url+"/dci")
	page := string(b)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("GET /dci = %d %s nosniff=%q; want 200 text/html; charset=utf-8, nosniff",
			resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("X-Content-Type-Options"))
	}
	for code, name := range registryNames {
		if !strings.Contains(page, "<code>"+code+"</code>") || !strings.Contains(page, name) {
			t.Errorf("the page does not name %s (%s)", code, name)
		}
		for _, ep := range dciEndpoints {
			if p := "/dci/" + code + "/registry/" + ep; !strings.Contains(page, "<code>"+p+"</code>") {
				t.Errorf("the page does not list %s", p)
			}
		}
	}
	for _, link := range []string{"/openapi.json", "/.well-known/jwks.json", "/.well-known/locations.json"} {
		if !strings.Contains(page, `href="`+link+`"`) {
			t.Errorf("the page does not link %s", link)
		}
	}
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Error("the page holds a script")
	}
	// Only the exact path: /dci/ and below are the registries' (or nobody's).
	if resp, _ := get(t, url+"/dci/"); resp.StatusCode == 200 {
		t.Errorf("GET /dci/ = 200; want the page only at /dci")
	}
}

func TestDCIPageEscapes(t *testing.T) {
	url := startFullHub(t, "/x<b>&y")
	resp, b := get(t, url+"/x%3Cb%3E&y")
	page := string(b)
	if resp.StatusCode != 200 {
		t.Fatalf("GET the page = %d %s; want 200", resp.StatusCode, b)
	}
	if strings.Contains(page, "<b>") {
		t.Error("the prefix is written unescaped")
	}
	for code := range registryNames {
		if p := "/x&lt;b&gt;&amp;y/" + code + "/registry/sync/search"; !strings.Contains(page, p) {
			t.Errorf("the page does not list %s", p)
		}
	}
}

func TestDCIPageNotAtRoot(t *testing.T) {
	url := startFullHub(t, "/")
	if resp, _ := get(t, url+"/dci"); resp.StatusCode == 200 {
		t.Errorf("GET /dci with the registries at the root = 200; want no page")
	}
}

// idTypesOf lists the identifier types the built-in source of registry code answers by.
func idTypesOf(code string) []string {
	if code == "crvs" {
		return civil.IDTypes()
	}
	return derived.IDTypes(map[string]string{"sr": derived.Social, "ibr": derived.Beneficiary, "dr": derived.Disability, "fr": derived.Farmer}[code])
}

// TestIdentifierTypesListed: /openapi.json (x-identifier-types of the registry parameter)
// and the /dci page list, per registry, exactly the identifier types its source takes.
func TestIdentifierTypesListed(t *testing.T) {
	b, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	doc := loadValid(t, b)
	p := doc.Components.Parameters["registry"]
	if p == nil || p.Value == nil {
		t.Fatal("no registry parameter")
	}
	raw, _ := json.Marshal(p.Value.Extensions["x-identifier-types"])
	var listed map[string][]string
	if err := json.Unmarshal(raw, &listed); err != nil {
		t.Fatalf("x-identifier-types %s: %v", raw, err)
	}
	url := startFullHub(t, "")
	_, page := get(t, url+"/dci")
	rows := strings.Split(string(page), "<tr>")
	for code := range registryNames {
		want := idTypesOf(code)
		if got := listed[code]; !slices.Equal(got, want) {
			t.Errorf("openapi.json lists for %s the identifier types %v; want %v", code, got, want)
		}
		var row string
		for _, r := range rows {
			if strings.Contains(r, "<td><code>"+code+"</code></td>") {
				row = r
			}
		}
		for _, id := range want {
			if !strings.Contains(row, "<code>"+id+"</code>") {
				t.Errorf("the /dci page does not list identifier type %s for %s", id, code)
			}
		}
	}
}
