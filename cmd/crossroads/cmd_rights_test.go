package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRightsSimulateChecksTheRuleFirst: a bad rule file fails at once, every problem
// listed with its position, before any store is opened (the store's file is never made).
func TestRightsSimulateChecksTheRuleFirst(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "hub.db")
	for _, tc := range []struct{ rule, want string }{
		{"{\n  \"id\": \"transport-reduction\",\n  \"colour\": \"red\"\n}", `line 3, column 3: json: unknown field "colour"`},
		{`{"id": "transport-reduction", "version": 2, "kind": "right", "title": "", "author": "",
"legal_reference": "L", "valid_from": "2026-01-01", "institution": "X", "reads": ["age"], "expr": "age >= 65 && alive",
"examples": [{"name": "old", "facts": {"age": 70}, "want": true}]}`, "title: is required (and 2 more: author: is required; expr: line 1, column 14: reads alive"},
	} {
		path := filepath.Join(dir, "rule.json")
		if err := os.WriteFile(path, []byte(tc.rule), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := cli(t, "", "rights", "simulate", "--rule", path, "--store", "sqlite:"+store, "--keys", filepath.Join(dir, "keys.json"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("rights simulate = %v; want an error containing %q", err, tc.want)
		}
		if _, err := os.Stat(store); !os.IsNotExist(err) {
			t.Errorf("the store was opened before the rule was checked: %v", err)
		}
	}
}
