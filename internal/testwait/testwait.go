// Package testwait lets tests wait for a condition instead of a fixed time: a sleep is
// either too long (a slow test) or too short (a test that proves nothing on a fast
// machine). It is for tests only (internal/arch keeps it so); tailscale's
// tstest.WaitFor is the model.
package testwait

import (
	"errors"
	"testing"
	"time"
)

// Until calls cond until it returns nil, and returns nil; or, once timeout has passed,
// the last error cond returned. It polls often at first (1 ms), then every 50 ms.
func Until(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	pause := time.Millisecond
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if !time.Now().Before(deadline) {
			return err
		}
		time.Sleep(min(pause, time.Until(deadline)))
		pause = min(2*pause, 50*time.Millisecond)
	}
}

// For waits, as Until, for cond; if timeout passes first, the test fails and stops
// with the condition's last error, which says what was awaited ("3 of 9 copies
// received").
func For(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	if err := Until(timeout, cond); err != nil {
		t.Fatalf("after %v: %v", timeout, err)
	}
}

// True turns a predicate into a condition for Until and For: nil when ok holds, else an
// error saying what was awaited.
func True(what string, ok func() bool) func() error {
	return func() error {
		if ok() {
			return nil
		}
		return errors.New("still waiting for " + what)
	}
}
