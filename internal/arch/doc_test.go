package arch

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The imports column of docs/ARCHITECTURE.md's package table names, for each package,
// what it imports outside tests: the module's packages by their path under internal/
// ("dci", "dci/dcitest"), other modules by a short name ("go-jose", "x/mod", "nats.go"),
// and of the standard library only the imports the capability packages may not make
// (net/http, database/sql); "std only" when there is none of these. Text in
// parentheses is a comment. TestDocumentedImports compares it with go list.

// notableStd are the standard library's imports the column names.
var notableStd = []string{"net/http", "database/sql"}

func TestDocumentedImports(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := documentedImports(filepath.Join(root, "docs", "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	real := realImports(t, root)
	for _, pkg := range slices.Sorted(maps.Keys(real)) {
		want := real[pkg]
		got, ok := doc[pkg]
		if !ok {
			t.Errorf("docs/ARCHITECTURE.md has no row for %s; its imports column would be: %s", pkg, column(want))
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("docs/ARCHITECTURE.md, %s: imports column says %s; go list says %s (%s)", pkg, column(got), column(want), diff(got, want))
		}
	}
	for _, pkg := range slices.Sorted(maps.Keys(doc)) {
		if _, ok := real[pkg]; !ok {
			t.Errorf("docs/ARCHITECTURE.md has a row for %s, which go list does not know", pkg)
		}
	}
}

// column writes a set of imports as the column does.
func column(names []string) string {
	if len(names) == 0 {
		return "std only"
	}
	return strings.Join(names, ", ")
}

// diff says what to add to and remove from got to make want.
func diff(got, want []string) string {
	var out []string
	for _, n := range want {
		if !slices.Contains(got, n) {
			out = append(out, "+"+n)
		}
	}
	for _, n := range got {
		if !slices.Contains(want, n) {
			out = append(out, "-"+n)
		}
	}
	return strings.Join(out, " ")
}

// tableRow matches a row of the package table: | `internal/x` | provides | imports |.
var tableRow = regexp.MustCompile("^\\| `((?:internal|cmd)/[^`]+)` \\|")

// comment matches a parenthesised comment in the imports column.
var comment = regexp.MustCompile(`\s*\([^)]*\)`)

// documentedImports reads the imports column of the package table, by package folder.
func documentedImports(path string) (map[string][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		m := tableRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		// The last cell; "\|" in a cell is a pipe of its text.
		cells := strings.Split(strings.ReplaceAll(strings.TrimSuffix(strings.TrimSpace(line), "|"), `\|`, "\x00"), "|")
		if len(cells) != 4 {
			return nil, fmt.Errorf("%s: row %s has %d cells; want 3", path, m[1], len(cells)-1)
		}
		var names []string
		if cell := strings.TrimSpace(comment.ReplaceAllString(cells[3], "")); cell != "std only" {
			for n := range strings.SplitSeq(cell, ",") {
				names = append(names, strings.Trim(strings.TrimSpace(n), "`"))
			}
		}
		if _, dup := out[m[1]]; dup {
			return nil, fmt.Errorf("%s: two rows for %s", path, m[1])
		}
		slices.Sort(names)
		out[m[1]] = names
	}
	return out, sc.Err()
}

// realImports lists, by package folder, the imports of every package of the module
// under internal/ and cmd/ that has Go files outside tests, as the column names them.
func realImports(t *testing.T, root string) map[string][]string {
	t.Helper()
	// Every package the module's packages import, with its module: the short names of
	// other modules' packages.
	lines := goList(t, root, "-deps", "-f", "{{.ImportPath}}\t{{.Standard}}\t{{with .Module}}{{.Path}}{{end}}", "./...")
	name := map[string]string{}
	for _, l := range lines {
		f := strings.Split(l, "\t")
		switch path, std, mod := f[0], f[1] == "true", f[2]; {
		case std && slices.Contains(notableStd, path):
			name[path] = path
		case std:
		case mod == strings.TrimSuffix(module, "/"):
			name[path] = strings.TrimPrefix(strings.TrimPrefix(path, module), "internal/")
		case mod != "":
			name[path] = shortModule(mod)
		}
	}
	out := map[string][]string{}
	for _, l := range goList(t, root, "-f", "{{.ImportPath}}\t{{len .GoFiles}}\t{{join .Imports \" \"}}", "./...") {
		f := strings.Split(l, "\t")
		dir := strings.TrimPrefix(f[0], module)
		if f[1] == "0" || !(strings.HasPrefix(dir, "internal/") || strings.HasPrefix(dir, "cmd/")) {
			continue
		}
		var names []string
		for imp := range strings.FieldsSeq(f[2]) {
			if n := name[imp]; n != "" && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		out[dir] = names
	}
	return out
}

// shortModule is the name the column gives another module: golang.org/x/mod → x/mod,
// github.com/go-jose/go-jose/v4 → go-jose, modernc.org/sqlite → sqlite.
func shortModule(mod string) string {
	if rest, ok := strings.CutPrefix(mod, "golang.org/x/"); ok {
		return "x/" + rest
	}
	if i := strings.LastIndexByte(mod, '/'); i >= 0 && regexp.MustCompile(`^v[0-9]+$`).MatchString(mod[i+1:]) {
		mod = mod[:i]
	}
	return mod[strings.LastIndexByte(mod, '/')+1:]
}

// goList runs go list in the module's root and returns its lines.
func goList(t *testing.T, root string, args ...string) []string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the packages' imports: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, append([]string{"list"}, args...)...)
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}
