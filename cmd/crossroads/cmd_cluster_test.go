package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestClusterDemo runs `crossroads cluster demo` for a while with chaos: a replica is
// killed and started again, the exchanges through the balancer go on, and no change
// reaches the subscriber out of order.
func TestClusterDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two replicas for half a minute; not in -short")
	}
	dsn := os.Getenv("CROSSROADS_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("CROSSROADS_TEST_POSTGRES not set: the cluster demo needs PostgreSQL")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	wrapper := filepath.Join(dir, "crossroads")
	script := fmt.Sprintf("#!/bin/sh\n%s=1 exec %s \"$@\"\n", asMainEnv, shellQuote(self))
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"--log-level", "warn", "cluster", "demo", "--postgres", dsn, "--bin", wrapper, "--dir", filepath.Join(dir, "files"),
		"--replicas", "2", "--addr", "127.0.0.1:0", "--for", "25s", "--chaos", "6s", "--down", "2s", "--every", "2s"}, nil, &out, &errOut)
	if err != nil {
		t.Fatalf("cluster demo: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	o := out.String()
	for _, want := range []string{"NATS JetStream cluster of 3 servers", "Load balancer (round robin): http://127.0.0.1:", " killed", " restarted"} {
		if !strings.Contains(o, want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, o)
		}
	}
	lines := regexp.MustCompile(`exchanges (\d+) ok .* (\d+) out of order`).FindAllStringSubmatch(o, -1)
	if len(lines) == 0 {
		t.Fatalf("no status line:\n%s", o)
	}
	last := lines[len(lines)-1]
	if ok, _ := strconv.Atoi(last[1]); ok == 0 {
		t.Errorf("no exchange answered:\n%s", o)
	}
	if last[2] != "0" {
		t.Errorf("changes out of order:\n%s", o)
	}
}
