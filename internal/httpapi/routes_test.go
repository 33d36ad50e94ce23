package httpapi

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/crossroads-hub/crossroads/internal/answer"
	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/metrics"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// patterns records the patterns routes registers.
type patterns []string

func (p *patterns) HandleFunc(pattern string, _ func(http.ResponseWriter, *http.Request)) {
	*p = append(*p, pattern)
}

func (p *patterns) Handle(pattern string, _ http.Handler) { *p = append(*p, pattern) }

// TestEveryRouteDocumented: every route routes.go registers, with every optional part of
// the hub present (population, exchange, transactions, events), is an operation of
// openapi.json; a route added without its documentation fails here.
func TestEveryRouteDocumented(t *testing.T) {
	b, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{dciPrefix: documentedDCIPrefix, reg: metrics.NewRegistry(), exchange: &exchange.Exchange{},
		pop: struct{ population.Store }{}, async: &answer.Worker{}, events: struct{ Events }{}}
	var ps patterns
	s.routes(&ps)
	if len(ps) < 50 {
		t.Fatalf("routes registered %d patterns; want every route of the hub", len(ps))
	}
	for _, p := range ps {
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			t.Errorf("route %q has no method", p)
			continue
		}
		path = strings.TrimSuffix(path, "{$}")
		if path == "" {
			path = "/"
		}
		var op *openapi3.Operation
		for docPath, item := range doc.Paths.Map() {
			if params.ReplaceAllString(docPath, "{}") == params.ReplaceAllString(path, "{}") {
				op = item.GetOperation(method)
			}
		}
		if op == nil {
			t.Errorf("route %s is not documented in openapi.json", p)
		}
	}
}

// params matches path parameters, whose names the document may choose.
var params = regexp.MustCompile(`\{[^}]*\}`)

// TestDCIPageListsEveryRoute: the /dci page lists every DCI endpoint the hub serves, for
// every registry: searches, transaction status, subscriptions, the registries' own calls
// (enrolled, disabled, …), notify and the callbacks of asynchronous sources; and every
// call of its own the table of registries (dci.Registries) gives a registry is served
// and described.
func TestDCIPageListsEveryRoute(t *testing.T) {
	s := &Server{dciPrefix: documentedDCIPrefix, reg: metrics.NewRegistry(), exchange: &exchange.Exchange{},
		pop: struct{ population.Store }{}, async: &answer.Worker{}, events: struct{ Events }{}}
	var ps patterns
	s.routes(&ps)
	w := httptest.NewRecorder()
	if err := s.dciPage(w, httptest.NewRequest("GET", "/dci", nil)); err != nil {
		t.Fatal(err)
	}
	page := w.Body.String()
	n := 0
	for _, p := range ps {
		method, path, _ := strings.Cut(p, " ")
		if method != http.MethodPost || !strings.HasPrefix(path, documentedDCIPrefix+"/") {
			continue
		}
		for _, reg := range dci.Registries {
			listed := strings.ReplaceAll(path, "{registry}", reg.Path)
			if !strings.HasPrefix(listed, documentedDCIPrefix+"/"+reg.Path+"/") {
				continue // another registry's own call
			}
			n++
			if !strings.Contains(page, "<code>"+listed+"</code>") {
				t.Errorf("the /dci page does not list %s", listed)
			}
		}
	}
	if n < 5*11 {
		t.Errorf("%d DCI endpoints checked; want every one of every registry", n)
	}
	for _, reg := range dci.Registries {
		for _, call := range reg.Calls {
			if p := "POST " + documentedDCIPrefix + "/" + reg.Path + "/registry/" + call; !slices.Contains(ps, p) {
				t.Errorf("no route %s: the table of registries gives %s the call %s", p, reg.Path, call)
			}
			if registryCalls[call].What == "" {
				t.Errorf("the call %s of %s has no description for the /dci page (registryCalls)", call, reg.Path)
			}
		}
	}
}
