// Package arch holds tests about the shape of the code base itself.
package arch

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// capability packages hold the domain; they must not import technology.
var capability = []string{"ident", "date", "fault", "directory", "population", "synth", "oauth", "exchange", "dci", "query", "audit", "civil", "derived", "txn", "mutations", "limit", "witness", "employment"}

var forbidden = []string{
	"net/http", "database/sql", "modernc.org/sqlite", "github.com/jackc/pgx",
	"github.com/pressly/goose", "github.com/nats-io",
	"github.com/getkin/kin-openapi", // test-only: the spec validator stays out of the binary
	"github.com/crossroads-hub/crossroads/internal/dci/dcitest",
	"github.com/crossroads-hub/crossroads/internal/sqlstore",
	"github.com/crossroads-hub/crossroads/internal/httpapi",
	"github.com/crossroads-hub/crossroads/internal/hub",
}

func TestCapabilityPackagesImportNoTechnology(t *testing.T) {
	for _, pkg := range capability {
		for _, f := range productionFiles(t, pkg) {
			checkFile(t, f)
		}
	}
}

// productionFiles lists the Go files of internal/<pkg> that are not tests.
func productionFiles(t *testing.T, pkg string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", pkg, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("package %s: no Go files found (%v)", pkg, err)
	}
	return slices.DeleteFunc(files, func(f string) bool { return strings.HasSuffix(f, "_test.go") })
}

// services do the hub's work away from HTTP requests (the asynchronous DCI answers, the
// event pipeline): they may send over HTTP, so net/http is theirs, but they import no
// driver, no NATS (internal/bus speaks it), and neither the HTTP API that calls them nor
// the wiring that starts them.
//
// The outbound kit (one way to send) keeps to the same rule: it speaks HTTP to other
// systems and nothing else.
var services = []string{"answer", "events", "outbound"}

func TestServicePackagesImportNoDriverNorFrontEnd(t *testing.T) {
	for _, pkg := range services {
		for _, f := range productionFiles(t, pkg) {
			for _, p := range imports(t, f) {
				for _, bad := range forbidden {
					if bad != "net/http" && under(p, bad) {
						t.Errorf("%s imports %s: service packages import no driver, nor the HTTP API or the wiring", f, p)
					}
				}
			}
		}
	}
}

func checkFile(t *testing.T, path string) {
	for _, p := range imports(t, path) {
		for _, bad := range forbidden {
			if under(p, bad) {
				t.Errorf("%s imports %s: capability packages must not depend on technology", path, p)
			}
		}
	}
}

// imports lists the import paths of a Go file.
func imports(t *testing.T, path string) []string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	af, err := parser.ParseFile(token.NewFileSet(), path, src, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, imp := range af.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		out = append(out, p)
	}
	return out
}

// under reports whether import path p is pkg or one of its sub-packages.
func under(p, pkg string) bool { return p == pkg || strings.HasPrefix(p, pkg+"/") }

const module = "github.com/crossroads-hub/crossroads/"

// confined are imports only some packages (and their sub-packages) of the module may
// make, outside tests.
var confined = []struct {
	imports string
	only    []string // folders from the module's root
	why     string
}{
	// One package speaks NATS: the others use the bus's own types, and the route step
	// can be tested with a fake.
	{"github.com/nats-io", []string{"internal/bus"}, "only internal/bus speaks NATS"},
	// The synthetic nation is the demo's and the benchmarks': production code finds the
	// services and institutions in the directory.
	{module + "internal/synth", []string{"internal/synth", "internal/hub", "internal/bench", "cmd"}, "only the demo's wiring, the benchmarks and the CLI use the synthetic nation"},
	// One way to send: the hub and its CLI are OAuth2 clients through the outbound kit.
	// The portal is the one other: a relying party of the e-ID provider (authorization
	// code with PKCE), which outbound's client credentials do not cover.
	{"golang.org/x/oauth2", []string{"internal/outbound", "internal/portal"}, "only internal/outbound (and the portal's e-ID login) is an OAuth2 client (outbound.ClientToken)"},
	// The independent RFC 8785 implementation cross-checks dci.Canonical in tests; the
	// binary has one canonical form, its own.
	{"github.com/gowebpki/jcs", nil, "gowebpki/jcs is for tests only"},
	// Waiting for a condition by polling is for tests; production code waits on a signal.
	{module + "internal/testwait", []string{"internal/testwait"}, "only tests wait with internal/testwait"},
	// The nations tests start hubs on are the tests' own.
	{module + "internal/hub/hubtest", []string{"internal/hub/hubtest"}, "only tests use internal/hub/hubtest"},
}

func TestConfinedImports(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		for _, p := range imports(t, path) {
			for _, c := range confined {
				if under(p, c.imports) && !slices.ContainsFunc(c.only, func(dir string) bool { return under(rel, dir) }) {
					t.Errorf("%s imports %s: %s", filepath.ToSlash(path), p, c.why)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
