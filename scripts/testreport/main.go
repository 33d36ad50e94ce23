// Command testreport reads `go test -json` on standard input and writes what `go test`
// would (each package's result line, the output of the tests that failed, build errors),
// then a summary of the tests that did not run fully: those that skipped, grouped by the
// reason they gave, and those that ran without the DCI documents (package dcitest).
// It exits 1 when a test failed, a package did not build, or a test skipped that is not
// in the list of allowed skips (allowed.go). scripts/test pipes `go test -json` into it.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
)

func main() {
	os.Exit(run(os.Stdin, os.Stdout))
}

// event is one line of `go test -json` (cmd/test2json), with the build events of
// `go test -json` (ImportPath, build-output, build-fail).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string
}

// missingMarker is dcitest.MissingMarker (not imported: the report builds on its own).
const missingMarker = "dcitest: DCI specs not found"

// report gathers what the summary needs while the stream goes by.
type report struct {
	out     io.Writer
	logs    map[string][]string // package + test -> output lines, until the test ends
	skipped []skip
	unvalid map[string]bool // package + test that logged missingMarker
	failed  []string        // the tests that failed
	broken  map[string]bool // packages that failed (a test, a build, a crash)
}

type skip struct{ pkg, test, reason string }

func key(pkg, test string) string { return pkg + " " + test }

func run(in io.Reader, out io.Writer) int {
	r := &report{out: out, logs: map[string][]string{}, unvalid: map[string]bool{}, broken: map[string]bool{}}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(out, sc.Text()) // not an event: the go command's own words
			continue
		}
		r.add(e)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(out, "testreport:", err)
		return 1
	}
	return r.summary()
}

func (r *report) add(e event) {
	switch e.Action {
	case "build-output":
		fmt.Fprint(r.out, e.Output)
		return
	case "build-fail":
		pkg, _, _ := strings.Cut(e.ImportPath, " ")
		r.broken[pkg] = true
		return
	}
	if e.Test == "" {
		if e.Action == "fail" {
			r.broken[e.Package] = true
			r.unfinished(e.Package)
		}
		if e.Action == "output" && e.Output != "PASS\n" && !strings.HasPrefix(e.Output, "=== ") {
			fmt.Fprint(r.out, e.Output)
		}
		return
	}
	k := key(e.Package, e.Test)
	switch e.Action {
	case "output":
		r.logs[k] = append(r.logs[k], e.Output)
		if strings.Contains(e.Output, missingMarker) {
			r.unvalid[k] = true
		}
	case "fail":
		r.failed = append(r.failed, short(e.Package)+"."+e.Test)
		for _, l := range r.logs[k] {
			if !strings.HasPrefix(strings.TrimSpace(l), "=== ") {
				fmt.Fprint(r.out, l)
			}
		}
		delete(r.logs, k)
	case "skip":
		r.skipped = append(r.skipped, skip{e.Package, e.Test, reason(r.logs[k])})
		delete(r.unvalid, k) // counted as a skip
		delete(r.logs, k)
	case "pass":
		delete(r.logs, k)
	}
}

// unfinished prints the output of pkg's tests that never ended: a package killed at its
// time-out ("panic: test timed out", with every goroutine's stack) or by a crash leaves
// them without a pass or a fail, and their output is what tells where they hung. At most
// maxUnfinished lines a test, the last ones.
func (r *report) unfinished(pkg string) {
	for _, k := range slices.Sorted(maps.Keys(r.logs)) {
		test, ok := strings.CutPrefix(k, pkg+" ")
		if !ok {
			continue
		}
		lines := r.logs[k]
		fmt.Fprintf(r.out, "--- DID NOT FINISH: %s (%s), its last output:\n", test, short(pkg))
		if len(lines) > maxUnfinished {
			fmt.Fprintf(r.out, "    … %d lines before\n", len(lines)-maxUnfinished)
			lines = lines[len(lines)-maxUnfinished:]
		}
		for _, l := range lines {
			fmt.Fprint(r.out, l)
		}
		r.failed = append(r.failed, short(pkg)+"."+test+" (did not finish)")
		delete(r.logs, k)
	}
}

const maxUnfinished = 400

// fileLine is the "file_test.go:12: " that t.Log puts before a message.
var fileLine = regexp.MustCompile(`^\s*[\w.-]+\.go:\d+: `)

// reason is the message of the last t.Skip, t.Log or t.Error before the test ended.
func reason(lines []string) string {
	for _, l := range slices.Backward(lines) {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- ") {
			continue
		}
		return fileLine.ReplaceAllString(strings.TrimRight(l, "\n"), "")
	}
	return "(no reason given)"
}

// summary prints the skips and the runs without validation, and says how it ends.
func (r *report) summary() int {
	code := 0
	if len(r.broken) > 0 || len(r.failed) > 0 {
		code = 1
	}
	w := r.out
	if len(r.skipped) == 0 {
		fmt.Fprintln(w, "scripts/test: no test skipped")
	} else {
		// Grouped by reason and verdict, in the order they came.
		type group struct{ reason, verdict string }
		names := map[group][]string{}
		var groups []group
		for _, s := range r.skipped {
			g := group{s.reason, "NOT ALLOWED: add it to scripts/testreport/allowed.go with a reason, or make it run"}
			if why, ok := allowedSkip(s.test, s.reason); ok {
				g.verdict = "allowed: " + why
			} else {
				code = 1
			}
			if _, ok := names[g]; !ok {
				groups = append(groups, g)
			}
			names[g] = append(names[g], short(s.pkg)+"."+s.test)
		}
		fmt.Fprintf(w, "scripts/test: %d tests skipped:\n", len(r.skipped))
		for _, g := range groups {
			fmt.Fprintf(w, "  %d × %q (%s)\n      %s\n", len(names[g]), g.reason, g.verdict, strings.Join(names[g], ", "))
		}
	}
	if len(r.unvalid) > 0 {
		names := make([]string, 0, len(r.unvalid))
		for k := range r.unvalid {
			pkg, test, _ := strings.Cut(k, " ")
			names = append(names, short(pkg)+"."+test)
		}
		slices.Sort(names)
		fmt.Fprintf(w, "scripts/test: %d tests ran without validating DCI messages against the DCI documents (%s; set CROSSROADS_DCI_SPEC):\n      %s\n",
			len(names), missingMarker, strings.Join(names, ", "))
	}
	switch {
	case len(r.failed) > 0:
		fmt.Fprintf(w, "scripts/test: FAIL: %s\n", strings.Join(r.failed, ", "))
	case len(r.broken) > 0:
		var names []string
		for p := range r.broken {
			names = append(names, short(p))
		}
		slices.Sort(names)
		fmt.Fprintf(w, "scripts/test: FAIL: %s\n", strings.Join(names, ", "))
	case code != 0:
		fmt.Fprintln(w, "scripts/test: FAIL: a test skipped that must run")
	}
	return code
}

// short drops the module path from a package path.
func short(pkg string) string {
	return strings.TrimPrefix(pkg, "github.com/crossroads-hub/crossroads/")
}
