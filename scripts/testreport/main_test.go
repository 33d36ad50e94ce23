package main

import (
	"strings"
	"testing"
)

// stream builds `go test -json` lines.
func stream(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

const pkg = `"Package":"github.com/crossroads-hub/crossroads/internal/x"`

func TestReport(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		code     int
		want     []string
		dontWant []string
	}{
		{"all pass", stream(
			`{"Action":"start",`+pkg+`}`,
			`{"Action":"run",`+pkg+`,"Test":"TestA"}`,
			`{"Action":"output",`+pkg+`,"Test":"TestA","Output":"=== RUN   TestA\n"}`,
			`{"Action":"output",`+pkg+`,"Test":"TestA","Output":"    a_test.go:3: chatter\n"}`,
			`{"Action":"pass",`+pkg+`,"Test":"TestA"}`,
			`{"Action":"output",`+pkg+`,"Output":"PASS\n"}`,
			`{"Action":"output",`+pkg+`,"Output":"ok  \tgithub.com/crossroads-hub/crossroads/internal/x\t0.1s\n"}`,
			`{"Action":"pass",`+pkg+`}`),
			0, []string{"ok  \tgithub.com/crossroads-hub/crossroads/internal/x", "no test skipped"}, []string{"chatter", "PASS\n", "=== RUN"}},
		{"a failure shows its output", stream(
			`{"Action":"output",`+pkg+`,"Test":"TestB","Output":"=== RUN   TestB\n"}`,
			`{"Action":"output",`+pkg+`,"Test":"TestB","Output":"    b_test.go:9: got 1; want 2\n"}`,
			`{"Action":"output",`+pkg+`,"Test":"TestB","Output":"--- FAIL: TestB (0.00s)\n"}`,
			`{"Action":"fail",`+pkg+`,"Test":"TestB"}`,
			`{"Action":"fail",`+pkg+`}`),
			1, []string{"got 1; want 2", "--- FAIL: TestB", "scripts/test: FAIL: internal/x.TestB"}, nil},
		{"a package killed at its time-out shows where its tests hung", stream(
			`{"Action":"output",`+pkg+`,"Test":"TestHangs","Output":"=== RUN   TestHangs\n"}`,
			`{"Action":"output",`+pkg+`,"Test":"TestHangs","Output":"panic: test timed out after 10m0s\n"}`,
			`{"Action":"output",`+pkg+`,"Test":"TestHangs","Output":"goroutine 7 [chan receive]:\nos/exec.(*Cmd).Wait(...)\n"}`,
			`{"Action":"output",`+pkg+`,"Output":"FAIL\tgithub.com/crossroads-hub/crossroads/internal/x\t600.0s\n"}`,
			`{"Action":"fail",`+pkg+`}`),
			1, []string{"DID NOT FINISH: TestHangs", "panic: test timed out", "os/exec.(*Cmd).Wait", "internal/x.TestHangs (did not finish)"}, nil},
		{"a build failure", stream(
			`{"ImportPath":"github.com/crossroads-hub/crossroads/internal/x","Action":"build-output","Output":"x.go:1: syntax error\n"}`,
			`{"ImportPath":"github.com/crossroads-hub/crossroads/internal/x","Action":"build-fail"}`,
			`{"Action":"fail",`+pkg+`,"FailedBuild":"github.com/crossroads-hub/crossroads/internal/x"}`),
			1, []string{"syntax error", "scripts/test: FAIL: internal/x\n"}, nil},
		{"an allowed skip", stream(
			`{"Action":"output",`+pkg+`,"Test":"TestStores/postgres","Output":"=== RUN   TestStores/postgres\n"}`,
			`{"Action":"output",`+pkg+`,"Test":"TestStores/postgres","Output":"    store_test.go:75: CROSSROADS_TEST_POSTGRES not set\n"}`,
			`{"Action":"output",`+pkg+`,"Test":"TestStores/postgres","Output":"    --- SKIP: TestStores/postgres (0.00s)\n"}`,
			`{"Action":"skip",`+pkg+`,"Test":"TestStores/postgres"}`,
			`{"Action":"pass",`+pkg+`}`),
			0, []string{`1 tests skipped`, `"CROSSROADS_TEST_POSTGRES not set" (allowed: no PostgreSQL`, "internal/x.TestStores/postgres"}, []string{"FAIL"}},
		{"a skip that must not happen", stream(
			`{"Action":"output",`+pkg+`,"Test":"TestExchange","Output":"    hub_test.go:9: dcitest: DCI specs not found at /x\n"}`,
			`{"Action":"skip",`+pkg+`,"Test":"TestExchange"}`,
			`{"Action":"pass",`+pkg+`}`),
			1, []string{"NOT ALLOWED", "internal/x.TestExchange", "FAIL: a test skipped that must run"}, []string{"ran without validating"}},
		{"a run without the documents", stream(
			`{"Action":"output",`+pkg+`,"Test":"TestExchange","Output":"    spec.go:80: dcitest: DCI specs not found at /x (set CROSSROADS_DCI_SPEC …): messages are not validated\n"}`,
			`{"Action":"pass",`+pkg+`,"Test":"TestExchange"}`,
			`{"Action":"pass",`+pkg+`}`),
			0, []string{"1 tests ran without validating DCI messages", "internal/x.TestExchange"}, nil},
		{"the go command's own words pass through", stream(`go: downloading example.org/m v1.0.0`), 0, []string{"go: downloading"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			code := run(strings.NewReader(tt.in), &out)
			if code != tt.code {
				t.Errorf("run = %d; want %d\n%s", code, tt.code, out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tt.dontWant {
				if strings.Contains(out.String(), w) {
					t.Errorf("output has %q:\n%s", w, out.String())
				}
			}
		})
	}
}
