package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/hub"
)

// cli runs the command line in process and returns its output and error.
func cli(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

// code returns the exit code err asks for (0 for none).
func code(err error) int {
	var ec exitCode
	if errors.As(err, &ec) {
		return int(ec)
	}
	return 0
}

func TestIDCommands(t *testing.T) {
	out, _, err := cli(t, "", "id", "check", "85.07.30-033.28", "0403.170.701", "85073003329")
	if code(err) != 1 {
		t.Errorf("id check with one bad number: err %v; want exit 1", err)
	}
	for _, want := range []string{"valid person number 85.07.30-033.28", "valid enterprise number 0403.170.701", "85073003329: invalid: ", "check digits"} {
		if !strings.Contains(out, want) {
			t.Errorf("id check output lacks %q:\n%s", want, out)
		}
	}
	out, _, err = cli(t, "", "id", "format", "--wire", "85.07.30-033.28")
	if err != nil || strings.TrimSpace(out) != "85073003328" {
		t.Errorf("id format --wire = %q, %v", out, err)
	}
	store := "sqlite:" + filepath.Join(t.TempDir(), "civil.db")
	seen := map[string]bool{}
	for range 5 {
		out, _, err := cli(t, "", "id", "new", "person", "--birth", "1990-05-01", "--sex", "female", "--store", store)
		n := strings.TrimSpace(out)
		if err != nil || seen[n] || !strings.HasPrefix(n, "90.05.01-") {
			t.Fatalf("id new = %q, %v; want a new number for 1990-05-01", n, err)
		}
		seen[n] = true
	}
}

func TestHelpAndVersion(t *testing.T) {
	out, _, err := cli(t, "", "--help")
	if err != nil || !strings.Contains(out, "demo") || !strings.Contains(out, "directory") {
		t.Errorf("--help = %v:\n%s", err, out)
	}
	out, _, err = cli(t, "", "--version")
	if err != nil || strings.TrimSpace(out) != version {
		t.Errorf("--version = %q, %v", out, err)
	}
	_, errOut, err := cli(t, "", "no-such-command")
	if err == nil || !strings.Contains(errOut, "unexpected argument") {
		t.Errorf("unknown command: %v, %q", err, errOut)
	}
}

func TestDirectoryCommands(t *testing.T) {
	store := "sqlite:" + filepath.Join(t.TempDir(), "hub.db")
	inst := `{"code":"PENSION-FUND","name":"Pension fund","sector":"pensions","kind":"fund","contact":{}}`
	if _, _, err := cli(t, inst, "directory", "--store", store, "put", "institution", "-", "--create"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cli(t, inst, "directory", "--store", store, "put", "institution", "-", "--create"); err == nil {
		t.Errorf("creating an existing institution again succeeded")
	}
	file := filepath.Join(t.TempDir(), "lines.csv")
	os.WriteFile(file, []byte("person;institution;capacity;begin;end\n85073003328;PENSION-FUND;001;2020-01-01;\n85073003329;PENSION-FUND;001;2020-01-01;\n"), 0o600)
	out, errOut, err := cli(t, "", "directory", "--store", store, "integrate", file, "--mode", "partial")
	if code(err) != 1 || !strings.Contains(errOut, "1 applied, 1 rejected") || !strings.Contains(out, `"line": 3`) {
		t.Errorf("integrate partial = %v\n%s\n%s", err, errOut, out)
	}
	out, _, err = cli(t, "", "directory", "--store", store, "files", "85073003328", "--day", "2024-01-01")
	if err != nil || !strings.Contains(out, `"capacity": "001"`) {
		t.Errorf("files = %v\n%s", err, out)
	}
	out, _, err = cli(t, "", "directory", "--store", store, "history", "--kind", "institution")
	if err != nil || !strings.Contains(out, `"op": "create"`) || !strings.Contains(out, `"actor": "cli:`) {
		t.Errorf("history = %v\n%s", err, out)
	}
}

func TestKeysRotate(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "hub-keys.json")
	if _, err := hub.SaveKeysFresh(keys); err != nil {
		t.Fatal(err)
	}
	out, _, err := cli(t, "", "keys", "--keys", keys, "rotate")
	if err != nil || !strings.Contains(out, "new current key") {
		t.Fatalf("keys rotate = %v %s", err, out)
	}
	out, _, _ = cli(t, "", "keys", "--keys", keys, "list")
	if strings.Count(out, "\n") != 2 || !strings.Contains(out, "current") || !strings.Contains(out, "retires") {
		t.Errorf("keys list after a rotation = %q; want the current key and the retiring one", out)
	}
	vs, _ := hub.ReadVerifiers(keys)
	if len(vs) != 2 {
		t.Errorf("verifiers recorded = %v; want both keys'", vs)
	}
}
