package hub_test

import (
	"bufio"
	"net/http"
	"testing"
)

// TestShutdownEndsTail: a hub with an operator's events tail attached stops within its
// grace period, without error (issue #16: it waited for the tail until the grace period
// ran out, then failed with "context deadline exceeded"), and the tail ends cleanly.
// (A pull subscription's long poll ends the same way: internal/bus's Fetch ends with its
// context, and the handler's is ended at shutdown.)
func TestShutdownEndsTail(t *testing.T) {
	t.Parallel()
	r := startHub(t, false)
	req, _ := http.NewRequest("GET", r.url+"/admin/events/tail", nil)
	req.Header.Set("Authorization", "Bearer "+r.admin)
	tail, err := http.DefaultClient.Do(req) // answered: the handler streams
	if err != nil || tail.StatusCode != 200 {
		t.Fatalf("tail: %v %v", tail, err)
	}
	defer tail.Body.Close()

	r.stop() // fails the test if Serve returns an error: the grace period ran out
	if t.Failed() {
		return // the tail is still open: closed, not read
	}
	sc := bufio.NewScanner(tail.Body)
	for sc.Scan() {
	}
	if err := sc.Err(); err != nil {
		t.Errorf("the tail broke off: %v; want a clean end", err)
	}
}
