package dci_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the wire format free of HTTP and of the test-only validator, and the
// neutral query model free of DCI.
func TestImports(t *testing.T) {
	forbidden := map[string][]string{
		".":     {"net/http", "github.com/getkin/kin-openapi", "github.com/crossroads-hub/crossroads/internal/dci/dcitest"},
		"query": {"net/http", "github.com/crossroads-hub/crossroads/internal/dci", "github.com/go-jose"},
	}
	for dir, bad := range forbidden {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				for _, b := range bad {
					if p == b || strings.HasPrefix(p, b+"/") {
						t.Errorf("%s imports %s", f, p)
					}
				}
			}
		}
	}
}
