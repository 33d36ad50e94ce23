package limit_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/limit"
)

// clock is a time the test moves by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time         { return c.t }
func (c *clock) wait(d time.Duration)   { c.t = c.t.Add(d) }
func newClock() *clock                  { return &clock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)} }
func seconds(s float64) time.Duration   { return time.Duration(s * float64(time.Second)) }
func after(t *testing.T, err error) int { t.Helper(); s, _ := limit.RetryAfter(err); return s }

// step is one action on a limiter: take (est), done (the n-th ticket taken, cost), or
// wait; want is "ok", or "refused Ns" for a refusal asking to wait N seconds.
type step struct {
	key  string
	op   string // take, done, wait
	est  float64
	n    int
	cost float64
	wait time.Duration
	want string
}

func TestLimiter(t *testing.T) {
	for _, c := range []struct {
		name  string
		cfg   limit.Config
		steps []step
	}{
		{"concurrency per key", limit.Config{Concurrent: 2}, []step{
			{key: "a", op: "take", want: "ok"},
			{key: "a", op: "take", want: "ok"},
			{key: "a", op: "take", want: "refused 1s"},
			{key: "b", op: "take", want: "ok"}, // another key is not held back
			{op: "done", n: 0},
			{key: "a", op: "take", want: "ok"},
		}},
		{"a costly piece leaves a debt", limit.Config{Rate: 1, Burst: 2}, []step{
			{key: "a", op: "take", want: "ok"},
			{op: "done", n: 0, cost: 5}, // balance 2 - 5 = -3
			{key: "a", op: "take", want: "refused 4s"},
			{key: "b", op: "take", want: "ok"},
			{op: "wait", wait: seconds(2.5)}, // -0.5
			{key: "a", op: "take", want: "refused 1s"},
			{op: "wait", wait: seconds(0.6)}, // 0.1
			{key: "a", op: "take", want: "ok"},
		}},
		{"the budget refills up to the burst only", limit.Config{Rate: 1, Burst: 2}, []step{
			{op: "wait", wait: time.Hour},
			{key: "a", op: "take", est: 1, want: "ok"},
			{key: "a", op: "take", est: 1, want: "ok"},
			{key: "a", op: "take", est: 1, want: "refused 1s"},
		}},
		{"a reservation is refunded when the work costs nothing", limit.Config{Rate: 0.1, Burst: 2}, []step{
			{key: "a", op: "take", est: 1, want: "ok"},
			{key: "a", op: "take", est: 1, want: "ok"},
			{key: "a", op: "take", est: 1, want: "refused 10s"},
			{op: "done", n: 0, cost: 0}, // a good secret: the failure reserved is given back
			{key: "a", op: "take", est: 1, want: "ok"},
			{op: "done", n: 1, cost: 1}, // a wrong one: kept
			{op: "done", n: 2, cost: 1},
			{key: "a", op: "take", est: 1, want: "refused 10s"},
			{op: "wait", wait: 10 * time.Second},
			{key: "a", op: "take", est: 1, want: "ok"},
		}},
		{"no limits", limit.Config{}, []step{
			{key: "a", op: "take", est: 100, want: "ok"},
			{key: "a", op: "take", est: 100, want: "ok"},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := newClock()
			c.cfg.Now = clk.now
			l := limit.New(c.cfg)
			var tickets []*limit.Ticket
			for i, s := range c.steps {
				switch s.op {
				case "wait":
					clk.wait(s.wait)
				case "done":
					tickets[s.n].Done(s.cost)
				case "take":
					tk, err := l.Take(s.key, s.est)
					got := "ok"
					if err != nil {
						got = fmt.Sprintf("refused %ds", after(t, err))
					} else {
						tickets = append(tickets, tk)
					}
					if got != s.want {
						t.Errorf("step %d: Take(%q, %v) = %s; want %s (%v)", i, s.key, s.est, got, s.want, err)
					}
				}
			}
		})
	}
}

func TestLimiterRemembersABoundedNumberOfKeys(t *testing.T) {
	clk := newClock()
	l := limit.New(limit.Config{Concurrent: 1, Rate: 1, Burst: 3, Keys: 3, Now: clk.now})
	charge := func(key string, cost float64) {
		tk, err := l.Take(key, 0)
		if err != nil {
			t.Fatalf("Take(%q): %v", key, err)
		}
		tk.Done(cost)
	}
	charge("victim", 10) // deep in debt
	charge("a", 1)
	charge("b", 2)
	for i := range 1000 { // an attacker's many keys, each charged a little
		charge(fmt.Sprintf("k%d", i), 0.5)
		if n := l.Len(); n > 3 {
			t.Fatalf("the limiter remembers %d keys; want at most 3", n)
		}
	}
	if _, err := l.Take("victim", 0); err == nil {
		t.Errorf("the most charged key was forgotten to make room for lightly charged ones")
	}
	busy, err := l.Take("k999", 0) // idle: nothing under way
	if err != nil {
		t.Fatal(err)
	}
	_ = busy
	held := []*limit.Ticket{busy}
	for _, k := range []string{"x", "y"} {
		tk, err := l.Take(k, 0)
		if err != nil {
			t.Fatalf("Take(%q): %v", k, err)
		}
		held = append(held, tk)
	}
	if _, err := l.Take("z", 0); err == nil || !strings.Contains(err.Error(), "too many") {
		t.Errorf("a new key while every key remembered has work under way: %v; want refused", err)
	}
	held[0].Done(0)
	if _, err := l.Take("z", 0); err != nil {
		t.Errorf("a new key once one is idle: %v", err)
	}
}

func TestLongKeysAreClipped(t *testing.T) {
	l := limit.New(limit.Config{Concurrent: 1})
	if _, err := l.Take(strings.Repeat("k", 1<<20)+"a", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Take(strings.Repeat("k", 1<<20)+"b", 0); err == nil {
		t.Errorf("two keys of a megabyte differing at the end were kept apart; want them clipped to one")
	}
}

func TestRetryAfter(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
		ok   bool
	}{
		{&limit.Refused{After: 1500 * time.Millisecond}, 2, true},
		{&limit.Refused{After: 0}, 1, true},
		{fmt.Errorf("wrapped: %w", &limit.Refused{After: 3 * time.Second}), 3, true},
		{fmt.Errorf("other"), 0, false},
	} {
		if got, ok := limit.RetryAfter(c.err); got != c.want || ok != c.ok {
			t.Errorf("RetryAfter(%v) = %d, %v; want %d, %v", c.err, got, ok, c.want, c.ok)
		}
	}
}
