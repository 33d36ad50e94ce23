package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// TestREADME runs the shell examples of README.md (its ```sh blocks), in order, with
// bash, against a fresh demo of 2,000 persons on a free port, as a new user would in a
// second terminal: each block in the folder that holds the demo's crossroads-data, the
// variables and functions of earlier blocks kept, localhost:8080 changed to the demo's
// address. A command may fail only where the README says so ("exit status N" on its line
// or the line before), and each block's output must have the shape the test expects of
// it, so that an example that stops working, or a block the test does not know, fails
// here. `./crossroads` is this test binary run as the command (TestMain), and the README's
// `go build -o crossroads ./cmd/crossroads` puts it there. The examples use curl and jq:
// without them the test fails, saying so.
func TestREADME(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: the README's examples use it (install it: apt-get install %s, brew install %s)", tool, tool, tool)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := shellBlocks(string(readme))
	dir := t.TempDir()
	examples, _ := filepath.Abs("../../examples")
	if err := os.Symlink(examples, filepath.Join(dir, "examples")); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	wrapper := filepath.Join(dir, ".crossroads-command")
	script := fmt.Sprintf("#!/bin/sh\n%s=1 exec %s \"$@\"\n", asMainEnv, shellQuote(self))
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	url, logs := startDemo(t, dir)
	port := url[strings.LastIndex(url, ":")+1:]
	env := append(os.Environ(), "CROSSROADS_URL="+url, "CROSSROADS_TEST_WRAPPER="+wrapper, "LC_ALL=C")
	ran := map[string]bool{}
	for _, b := range blocks {
		if why := notRun(b.text); why != "" {
			t.Logf("README line %d (%s): not run: %s", b.line, firstLine(b.text), why)
			continue
		}
		check := readmeCheckFor(b.text)
		if check == nil {
			t.Errorf("README line %d (%s): a shell block readme_test.go does not know: add what its output must show to readmeChecks", b.line, firstLine(b.text))
			continue
		}
		ran[check.key] = true
		text := strings.NewReplacer("localhost:8080", "localhost:"+port, "127.0.0.1:8080", "127.0.0.1:"+port).Replace(b.text)
		out, failures := runBlock(t, dir, env, text)
		for _, f := range failures {
			if !expectedFailure(text, f) {
				t.Errorf("README line %d: %q exited with status %d (say \"exit status %d\" there if it should)\n%s",
					b.line+f.line-1, lineAt(text, f.line), f.status, f.status, out)
			}
		}
		if err := check.check(out); err != nil {
			t.Errorf("README line %d (%s): %v\noutput:\n%s", b.line, firstLine(b.text), err, out)
		}
	}
	for _, c := range readmeChecks {
		if !ran[c.key] {
			t.Errorf("no README block holds %q any more: update readmeChecks", c.key)
		}
	}
	// What the examples started ends well: the changes and the asynchronous answer reach
	// the demo's receiver, verified, and no delivery fails.
	testwait.For(t, 30*time.Second, func() error {
		var rc struct {
			Accepted, Refused int
			Last              []struct{ Action string }
		}
		if err := getJSON(url+"/demo/receiver", "", &rc); err != nil {
			return err
		}
		notify, answers := 0, 0
		for _, m := range rc.Last {
			switch m.Action {
			case "notify":
				notify++
			case "on-search":
				answers++
			}
		}
		if rc.Refused > 0 || notify < 3 || answers < 1 {
			return fmt.Errorf("the demo's receiver took %d notify and %d on-search messages, refused %d; want 3 notify (a death to the pension fund's two subscriptions and the health insurer's, a hire to the employment service), 1 on-search, none refused", notify, answers, rc.Refused)
		}
		return nil
	})
	token, _ := os.ReadFile(filepath.Join(dir, "crossroads-data", "admin-token"))
	var st struct {
		Routed, Delivered int
		Failed            int `json:"failed_attempts"`
	}
	if err := getJSON(url+"/admin/events", strings.TrimSpace(string(token)), &st); err != nil || st.Failed > 0 || st.Delivered != st.Routed {
		t.Errorf("events status: %+v, %v; want every copy routed delivered, no attempt failed", st, err)
	}
	if t.Failed() {
		t.Logf("the demo's log:\n%s", logs())
	}
}

// asMainEnv makes this test binary the crossroads command (TestMain).
const asMainEnv = "CROSSROADS_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// readmeCheck says what the output of one README block must show; key is a string only
// that block holds.
type readmeCheck struct {
	key   string
	check func(out string) error
}

var readmeChecks = []readmeCheck{
	{"curl -s localhost:8080/public/authorizations", all(wants(
		`"id": "AUTH-`, `"code": "PENSION-FUND"`, `"persons": 2000`,
		`"created_by": "synth"`, // a person's files say who integrated them, and when
		`"applied": 1`, `"rejected": 1`, "422\n", `"kind": "integration"`), absent(`"created_at": "0001-`))},
	{"search() {", all(wants(`"status": ?"succ"`, `"reg_records"`, `"enrolled_status": ?"yes"`, `err.request.forbidden`),
		count("403\n", 2), absent(`rjct.message_id.duplicate`))},
	{"./crossroads sign --client", wants(`"status": ?"succ"`, `"reg_records"`)},
	{"demo/receiver/on-search", all(acks, wants("400\n", `rjct.message_id.duplicate`, `"action": "on-search"`))},
	{"audit verify-evidence", wants(`"verifier_key"`, "evidence OK", "audit log OK", `"client": "pension-fund-app"`, "audit log consistent")},
	{"./crossroads id check", wants("valid person number 85.07.30-033.28", "check digits",
		"partial batch: 2 applied, 1 rejected", `"institution": "HEALTH-INSURER-2"`, `answered [0-9]+, refused [0-9]+`, "new current key")},
	{"./crossroads events tail", all(wants(`"type": "death"`, `"type": "employment_start"`, `"state":"routed"`,
		// the death and the hire, and the rights the death ended (a "right" change each) as
		// the engine's follower has recorded them by then
		`"changes": [2-9]`, `"accepted": [0-9]+`), absent(`"refused": [1-9]`))},
}

func readmeCheckFor(block string) *readmeCheck {
	for i, c := range readmeChecks {
		if strings.Contains(block, c.key) {
			return &readmeChecks[i]
		}
	}
	return nil
}

func wants(res ...string) func(string) error {
	return func(out string) error {
		for _, re := range res {
			if !regexp.MustCompile(re).MatchString(out) {
				return fmt.Errorf("the output lacks %s", re)
			}
		}
		return nil
	}
}

func absent(re string) func(string) error {
	return func(out string) error {
		if m := regexp.MustCompile(re).FindString(out); m != "" {
			return fmt.Errorf("the output has %s", m)
		}
		return nil
	}
}

func count(s string, n int) func(string) error {
	return func(out string) error {
		if got := strings.Count(out, s); got != n {
			return fmt.Errorf("the output has %q %d times; want %d", s, got, n)
		}
		return nil
	}
}

func all(checks ...func(string) error) func(string) error {
	return func(out string) error {
		for _, c := range checks {
			if err := c(out); err != nil {
				return err
			}
		}
		return nil
	}
}

// acks: the asynchronous search and the same message again are acknowledged alike, with
// one correlation id.
func acks(out string) error {
	ids := regexp.MustCompile(`"correlation_id": ?"([^"]+)"`).FindAllStringSubmatch(out, -1)
	if len(ids) < 2 || ids[0][1] != ids[1][1] || !regexp.MustCompile(`"ack_status": ?"ACK"`).MatchString(out) {
		return fmt.Errorf("the message sent twice was not acknowledged twice with one correlation id: %v", ids)
	}
	return nil
}

// notRun says why a block is not run, or "".
func notRun(block string) string {
	switch first := firstLine(block); {
	case strings.HasPrefix(first, "go run ./cmd/crossroads demo"):
		return "the demo itself; this test runs one (--persons 2000, a free port)"
	case first == "scripts/test":
		return "the tests themselves"
	case strings.HasPrefix(first, "crossroads serve --store 'postgres"):
		return "needs a PostgreSQL server"
	}
	return ""
}

// block is a ```sh block of the README and the line its text starts on.
type block struct {
	line int
	text string
}

func shellBlocks(md string) []block {
	var out []block
	var cur *block
	for i, l := range strings.Split(md, "\n") {
		switch {
		case cur == nil && strings.TrimSpace(l) == "```sh":
			cur = &block{line: i + 2}
		case cur != nil && strings.TrimSpace(l) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += l + "\n"
		}
	}
	return out
}

// failure is a command of a block that exited with a status other than 0.
type failure struct{ line, status int }

// The preamble restores the variables and functions of the blocks before (.readme-state,
// written by the epilogue), stands in for `go build`, and records every command that
// fails (.readme-errors: its line in the block and its status).
const (
	preamble = `__before=$(compgen -v)
if [ -f .readme-state ]; then source .readme-state; fi
go() {
  if [ "$*" = "build -o crossroads ./cmd/crossroads" ]; then cp "$CROSSROADS_TEST_WRAPPER" crossroads
  else echo "TestREADME does not run 'go $*'" >&2; return 1; fi
}
rm -f .readme-errors
trap '__s=$?; echo "$((LINENO - __offset)) $__s" >> .readme-errors' ERR
`
	epilogue = `
trap - ERR
{
  for __v in $(compgen -v); do
    case "$__v" in __*) continue;; esac
    if ! grep -qx "$__v" <<<"$__before"; then declare -p "$__v" 2>/dev/null; fi
  done
  declare -f
} > .readme-state
exit 0
`
)

func runBlock(t *testing.T, dir string, env []string, text string) (string, []failure) {
	t.Helper()
	offset := strings.Count(preamble, "\n") + 1 // the line __offset is set on
	script := preamble + fmt.Sprintf("__offset=%d\n", offset) + text + epilogue
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	cmd.WaitDelay = time.Second // a command left running in the background keeps the output open
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the block did not end within a minute (a command that runs until interrupted?)\n%s", out)
	}
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	var fails []failure
	errs, _ := os.ReadFile(filepath.Join(dir, ".readme-errors"))
	sc := bufio.NewScanner(bytes.NewReader(errs))
	for sc.Scan() {
		var f failure
		if _, err := fmt.Sscanf(sc.Text(), "%d %d", &f.line, &f.status); err == nil {
			fails = append(fails, f)
		}
	}
	return string(out), fails
}

// expectedFailure: the README says "exit status N" on the failing line or the line before.
func expectedFailure(text string, f failure) bool {
	want := "exit status " + strconv.Itoa(f.status)
	return strings.Contains(lineAt(text, f.line), want) || strings.Contains(lineAt(text, f.line-1), want)
}

func lineAt(text string, n int) string {
	lines := strings.Split(text, "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return lines[n-1]
}

func firstLine(text string) string {
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			return l
		}
	}
	return ""
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// startDemo runs `crossroads demo` in this process on a free port with a data folder in
// dir, and returns its URL and a function giving its log so far. It stops with the test.
func startDemo(t *testing.T, dir string) (string, func() string) {
	t.Helper()
	var out, logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--log-format", "text", "demo", "--addr", "127.0.0.1:0", "--persons", "2000",
			"--data", filepath.Join(dir, "crossroads-data")}, strings.NewReader(""), &out, &logs)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	})
	ready := regexp.MustCompile(`ready at (http://\S+) `)
	var url string
	testwait.For(t, time.Minute, func() error {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("the demo stopped: %v\n%s\n%s", err, out.String(), logs.String())
		default:
		}
		m := ready.FindStringSubmatch(out.String())
		if m == nil {
			return fmt.Errorf("the demo did not say it is ready:\n%s", out.String())
		}
		url = m[1]
		return nil
	})
	return url, logs.String
}

func getJSON(url, token string, v any) error {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// syncBuffer is a bytes.Buffer for one writer and readers in other goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
