package portal_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBrowser runs e2e/portal.mjs in headless Chromium (playwright-core) against a real
// hub: log in through the development identity provider, see a right from the rights
// engine's decision with its explanation (the rule in words, the facts with source and
// date), prove it, verify it as a museum by code and by credential, see both checks in
// "who consulted my data"; the right's granting body reports the benefit it granted on
// the professional page and the citizen finds it on the statuses page; the operators'
// console shows its charts.
// The screenshots are kept in e2e/artifacts/<time>/ (CROSSROADS_E2E_ARTIFACTS to put
// them elsewhere), which the test prints. Without Chromium, node or e2e/node_modules it
// skips and says why (scripts/test installs them when it can).
func TestBrowser(t *testing.T) {
	e2e, err := filepath.Abs(filepath.Join("..", "..", "e2e"))
	if err != nil {
		t.Fatal(err)
	}
	chromium := os.Getenv("CROSSROADS_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("browser test: no Chromium at %s (apt-get install chromium, or CROSSROADS_CHROMIUM)", chromium)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("browser test: node is not installed")
	}
	if _, err := os.Stat(filepath.Join(e2e, "node_modules", "playwright-core")); err != nil {
		t.Skip("browser test: playwright-core is not installed (cd e2e && npm ci)")
	}
	t.Parallel()
	tg := start(t)
	person := tg.holder(t, "social-energy-tariff", "", true) // and the old-age pension
	from := tg.grantedSince(t, person, "social-energy-tariff")
	grantorSecret, err := tg.st.Directory.IssueClientSecret(context.Background(), "test", "social-registry-app")
	if err != nil {
		t.Fatal(err)
	}
	out := os.Getenv("CROSSROADS_E2E_ARTIFACTS")
	if out == "" {
		out = filepath.Join(e2e, "artifacts", time.Now().UTC().Format("20060102T150405Z"))
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(e2e, "portal.mjs"))
	cmd.Dir = e2e
	cmd.Env = append(os.Environ(), "BASE="+tg.url, "PERSON="+person, "RIGHT=social-energy-tariff", "CLIENT_ID=museum-app", "CLIENT_SECRET="+tg.secret,
		"OUT="+out, "CHROMIUM="+chromium, "GRANTOR_ID=social-registry-app", "GRANTOR_SECRET="+grantorSecret, "FROM="+from.String(),
		"ADMIN_TOKEN="+nation.Admin())
	b, err := cmd.CombinedOutput()
	t.Logf("browser test screenshots: %s", out)
	if err != nil {
		t.Fatalf("e2e/portal.mjs: %v\n%s", err, b)
	}
	if !strings.Contains(string(b), `"ok":true`) {
		t.Fatalf("e2e/portal.mjs did not finish: %s", b)
	}
	t.Logf("e2e/portal.mjs: %s", strings.TrimSpace(string(b)))
}
