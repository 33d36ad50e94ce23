package hub_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
	"github.com/crossroads-hub/crossroads/internal/synth"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// TestKillDuringDeliveries kills the hub with SIGKILL while changes are being delivered,
// records more while it is down, and restarts it: every change reaches both subscribers,
// and a change delivered twice carries the same idempotency key both times.
func TestKillDuringDeliveries(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and kills the binary; not in -short")
	}
	ctx := context.Background()
	bin := buildBinary(t)
	dir := t.TempDir()
	store, civil, keys := "sqlite:"+filepath.Join(dir, "hub.db"), "sqlite:"+filepath.Join(dir, "civil.db"), filepath.Join(dir, "hub-keys.json")
	runCmd(t, bin, "synth", "--store", store, "--civil", civil, "--persons", "2000", "--seed", "5")
	b := &inbox{}
	srv := httptest.NewServer(b)
	defer srv.Close()

	// Both subscribers hear of moves of pensioners insured by HEALTH-INSURER-1.
	hubDB, err := sqlstore.Open(ctx, store, sqlstore.Hub)
	if err != nil {
		t.Fatal(err)
	}
	d := directory.New(hubDB.Directory(), nil)
	subs := []string{"sub-" + strings.ToLower(synth.PensionFund), "sub-" + strings.ToLower(synth.HealthInsurer1)}
	for _, id := range subs {
		sub, _, err := directory.Get[directory.Subscription](ctx, d, id)
		if err != nil {
			t.Fatal(err)
		}
		sub.Endpoint = srv.URL + "/" + id
		if !slices.Contains(sub.EventTypes, "address") {
			sub.EventTypes = append(sub.EventTypes, "address")
		}
		if _, _, err := directory.Put(ctx, d, "test", sub, directory.AnyVersion); err != nil {
			t.Fatal(err)
		}
	}
	today := d.Today()
	var persons []string
	page, _ := d.Store().Integrations(ctx, directory.IntegrationQuery{Institution: synth.PensionFund, Day: today, Limit: 1000})
	for _, g := range page {
		gs, _ := d.Store().Files(ctx, g.Person, today)
		if slices.ContainsFunc(gs, func(f directory.Integration) bool { return f.Institution == synth.HealthInsurer1 }) {
			persons = append(persons, g.Person)
		}
	}
	hubDB.Close()
	if len(persons) < 5 {
		t.Fatalf("found %d pensioners insured by %s", len(persons), synth.HealthInsurer1)
	}
	civilDB, err := sqlstore.Open(ctx, civil, sqlstore.Civil)
	if err != nil {
		t.Fatal(err)
	}
	defer civilDB.Close()
	pop := civilDB.Population()
	var seqs []int64
	record := func(n int) {
		for i := range n {
			p := persons[(len(seqs)+i)%len(persons)]
			ev, err := pop.Record(ctx, population.Event{Type: population.EventAddress, Person: p, Date: today},
				func(pp *population.Person) error { pp.Address.HouseNumber = strconv.Itoa(len(seqs)); return nil })
			if err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, ev.Seq)
			// Spread over time, as changes come, so that the kill finds deliveries under way.
			time.Sleep(3 * time.Millisecond)
		}
	}
	start := func() *exec.Cmd {
		addr := freeAddr(t)
		cmd := exec.Command(bin, "--log-level", "error", "serve", "--store", store, "--civil", civil, "--keys", keys, "--addr", addr)
		cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		waitUp(t, "http://"+addr)
		return cmd
	}
	cmd := start()
	// The delivery lanes run: a first change reaches both subscribers.
	record(1)
	first := "civil:" + strconv.FormatInt(seqs[0], 10) + "/"
	testwait.For(t, 20*time.Second, func() error {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, id := range subs {
			if !slices.Contains(b.keys, first+id) {
				return fmt.Errorf("the first change %s to reach %s", first+id, id)
			}
		}
		return nil
	})
	record(149)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL, deliveries in flight
		t.Fatal(err)
	}
	cmd.Wait()
	record(50) // while the hub is down
	start()

	want := map[string]bool{}
	for _, s := range seqs {
		for _, id := range subs {
			want["civil:"+strconv.FormatInt(s, 10)+"/"+id] = true
		}
	}
	got := map[string]int{}
	_ = testwait.Until(30*time.Second, func() error { // what is missing then is listed below
		b.mu.Lock()
		got = map[string]int{}
		for _, k := range b.keys {
			got[k]++
		}
		b.mu.Unlock()
		for k := range want {
			if got[k] == 0 {
				return errors.New("a copy missing")
			}
		}
		return nil
	})
	var missing []string
	dups := 0
	for k := range want {
		if got[k] == 0 {
			missing = append(missing, k)
		}
		if got[k] > 1 {
			dups++
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("a delivery nobody expected: %s", k)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		t.Fatalf("%d of %d deliveries lost after the kill, e.g. %v", len(missing), len(want), missing[:min(5, len(missing))])
	}
	// Each person's changes in order for each subscriber, the kill notwithstanding: the
	// first receipt of each copy comes after those of the person's earlier changes.
	b.mu.Lock()
	last, seen := map[string]int64{}, map[string]bool{}
	for _, ev := range b.events {
		if seen[ev.Key] {
			continue
		}
		seen[ev.Key] = true
		change, sub, _ := strings.Cut(strings.TrimPrefix(ev.Key, "civil:"), "/")
		seq, _ := strconv.ParseInt(change, 10, 64)
		if prev, ok := last[sub+" "+ev.Person]; ok && seq < prev {
			t.Errorf("%s: person %s's change %d arrived after %d", sub, ev.Person, seq, prev)
		}
		last[sub+" "+ev.Person] = max(last[sub+" "+ev.Person], seq)
	}
	b.mu.Unlock()
	t.Logf("%d changes, %d deliveries, %d delivered more than once (same key)", len(seqs), len(want), dups)
}
