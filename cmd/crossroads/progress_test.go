package main

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestProgressRate: no rate until a stage has run a second, then the rate of the whole
// stage; never the absurd first frames ("166625423 items/s", "0 items/hr").
func TestProgressRate(t *testing.T) {
	var out strings.Builder
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	p := &progress{w: &out, now: func() time.Time { return now }}
	p.update("persons", 0, 10000)
	p.update("persons", 7, 10000)
	rate := regexp.MustCompile(`[0-9]+ ?(items)?/(s|min|hr)`)
	if got := out.String(); rate.MatchString(got) {
		t.Errorf("first frames show a rate: %q", got)
	}
	now = now.Add(2 * time.Second)
	p.update("persons", 5000, 10000)
	if got := out.String(); !strings.Contains(got, "persons (2500/s)") {
		t.Errorf("after 2 s and 5000 items: %q; want persons (2500/s)", got)
	}
	p.update("person directory", 1, 100) // a new stage starts again without a rate
	p.finish()
	last := out.String()[strings.LastIndex(out.String(), "person directory"):]
	if rate.MatchString(last) {
		t.Errorf("a new stage shows a rate at once: %q", last)
	}
}
