// Package arch holds tests about the shape of the code base itself.
package arch

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// capability packages hold the domain; they must not import technology.
var capability = []string{"ident", "date", "fault", "directory", "population", "synth", "oauth", "exchange", "dci", "query", "audit", "civil", "derived", "txn", "mutations", "limit"}

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
		files, err := filepath.Glob(filepath.Join("..", pkg, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("package %s: no Go files found (%v)", pkg, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			checkFile(t, f)
		}
	}
}

func checkFile(t *testing.T, path string) {
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	af, err := parser.ParseFile(token.NewFileSet(), path, src, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range af.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		for _, bad := range forbidden {
			if p == bad || strings.HasPrefix(p, bad+"/") {
				t.Errorf("%s imports %s: capability packages must not depend on technology", path, p)
			}
		}
	}
}
