package hub_test

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the schema of the test

	"github.com/crossroads-hub/crossroads/internal/bus"
	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
	"github.com/crossroads-hub/crossroads/internal/synth"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// TestReplicas runs three `crossroads serve` processes on one PostgreSQL database and a
// 3-node NATS JetStream cluster outside them (issue #17): exchanges sent to either are all answered and
// recorded once in one log that verifies; a message id repeated at another replica is
// refused; changes recorded in the register reach a subscriber once each, in order per
// person, before and after the replica doing the events' work is killed.
//
// The NATS cluster is the test's own (three nats-server servers in process, with routes
// between them; each stream kept on all three): the hub's streams have fixed names, and
// on a server other runs share, an earlier run's message ids would be taken for repeats.
// (TestRollingRestart, internal/cluster, stops the NATS servers in turn.)
func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary twice; not in -short")
	}
	dsn := os.Getenv("CROSSROADS_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("CROSSROADS_TEST_POSTGRES not set: replicas on one PostgreSQL are not tried")
	}
	t.Parallel()
	ctx := context.Background()
	bin := buildBinary(t)
	dir := t.TempDir()
	store := postgresSchema(t, dsn)
	natsURL := natsCluster(t).URL()
	keys := filepath.Join(dir, "hub-keys.json")
	runCmd(t, bin, "synth", "--store", store, "--persons", "2000", "--seed", "11")

	// A subscriber of moves of pensioners insured by HEALTH-INSURER-1.
	inb := &inbox{}
	rcv := httptest.NewServer(inb)
	defer rcv.Close()
	persons := subscribeMoves(t, store, rcv.URL)
	members := personsOf(t, store, synth.HealthInsurer3) // HEALTH-INSURER-3 pulls their moves
	wit := newTestWitness(t)

	const replicas = 3
	var logs [replicas]*syncBuffer
	var kills [replicas]func()
	var bases [replicas]string
	for i := range kills {
		logs[i] = &syncBuffer{}
		kills[i], bases[i] = serveReplica(t, bin, store, natsURL, keys, logs[i], "--witness-key", wit.vkey)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, l := range logs {
				t.Logf("replica %d's warnings and errors:\n%s", i, tail(l.notable(), 5000))
			}
		}
	})
	secret := strings.TrimSpace(runCmd(t, bin, "directory", "--store", store, "secret", synth.AppID(synth.HealthInsurer1)))
	token := tokenFor(t, bases[replicas-1], synth.AppID(synth.HealthInsurer1), secret)

	// Exchanges through both, side by side.
	client := &http.Client{Timeout: 30 * time.Second}
	seqs := map[int64]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	const perClient, clients = 50, 4
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perClient {
				n := c*perClient + i
				seq, _, ok := searchOnce(client, bases[n%replicas], token, synth.FixtureNumber, n)
				mu.Lock()
				if !ok {
					t.Errorf("exchange %d at replica %d: not answered", n, n%replicas)
				} else if seqs[seq] {
					t.Errorf("exchange %d: audit record %d given twice", n, seq)
				}
				seqs[seq] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		for i, l := range logs {
			t.Logf("replica %d's warnings and errors:\n%s", i, l.notable())
		}
		t.FailNow()
	}

	// A message id sent to one replica, then to each other one.
	if first := searchRaw(t, client, bases[0], token, "replicas-repeat"); bytes.Contains(first, []byte(dci.RjctMessageIDDuplicate)) {
		t.Errorf("a new message id refused as a repeat: %.300s", first)
	}
	for i := 1; i < replicas; i++ {
		if again := searchRaw(t, client, bases[i], token, "replicas-repeat"); !bytes.Contains(again, []byte(dci.RjctMessageIDDuplicate)) {
			t.Errorf("a message id repeated at replica %d: %.300s; want it refused", i, again)
		}
	}

	checkCosignatures(t, bases[:], logs[:], wit)

	// Changes, while both run; then kill the replica doing the events' work (the first to
	// start took the lease), record more, and the other delivers them.
	civilDB, err := sqlstore.Open(ctx, store, sqlstore.Civil)
	if err != nil {
		t.Fatal(err)
	}
	defer civilDB.Close()
	var want []string
	record := func(n int) {
		for i := range n {
			p := persons[(len(want)+i)%len(persons)]
			ev, err := civilDB.Population().Record(ctx, population.Event{Type: population.EventAddress, Person: p, Date: 20261201},
				func(pp *population.Person) error { pp.Address.HouseNumber = strconv.Itoa(len(want)); return nil })
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, "civil:"+strconv.FormatInt(ev.Seq, 10)+"/sub-"+strings.ToLower(synth.PensionFund))
		}
	}
	delivered := func(n int) func() error {
		return func() error {
			inb.mu.Lock()
			defer inb.mu.Unlock()
			for _, k := range want[:n] {
				if !slices.Contains(inb.keys, k) {
					return fmt.Errorf("%s to be delivered (%d of %d keys seen)", k, len(inb.keys), n)
				}
			}
			return nil
		}
	}
	record(20)
	testwait.For(t, 60*time.Second, delivered(20))
	const took = `"msg":"lease taken","lease":"events"`
	var holders []int
	for i, l := range logs {
		if strings.Contains(l.String(), took) {
			holders = append(holders, i)
		}
	}
	if len(holders) != 1 {
		t.Fatalf("replicas %v took the lease of the events' work; want one", holders)
	}
	holder := holders[0]

	// Copies of a pull subscription, all pulled from the holder: half acknowledged at
	// once at another replica, half after the holder is killed, at the third.
	hi3 := synth.AppID(synth.HealthInsurer3)
	pull := &puller{t: t, subscription: "sub-" + strings.ToLower(synth.HealthInsurer3), client: client,
		token: tokenFor(t, bases[holder], hi3, strings.TrimSpace(runCmd(t, bin, "directory", "--store", store, "secret", hi3)), "registry.subscribe")}
	pullKeys := recordMoves(t, civilDB, members, 3, pull.subscription)
	handed := pull.pullAll(bases[holder], pullKeys)
	other, third := (holder+1)%replicas, (holder+2)%replicas
	pull.checkAck("half the copies pulled at the holder, acknowledged at another replica", bases[other], handed[:len(handed)/2])
	pull.checkRefusedAcks(bases[third], handed[:len(handed)/2], want[0], tokenFor(t, bases[third], synth.AppID(synth.HealthInsurer1), secret, "registry.subscribe"), logs[third])

	kills[holder]() // kill -9, and wait for it
	killed := time.Now()
	testwait.For(t, 30*time.Second, testwait.True("the surviving replica to take the events' lease", func() bool {
		for i, l := range logs {
			if i != holder && strings.Contains(l.String(), took) {
				return true
			}
		}
		return false
	}))
	t.Logf("the events' lease taken over %v after the kill", time.Since(killed).Round(time.Millisecond))
	pull.checkAck("the copies pulled at the holder, acknowledged after its kill at another replica", bases[third], handed[len(handed)/2:])
	if _, again := pull.next(bases[other]); len(again) > 0 {
		t.Errorf("copies offered again after they were acknowledged: %v", again)
	}
	record(20)
	testwait.For(t, 60*time.Second, delivered(40))
	checkPersonOrder(t, inb, want)

	// One log, verified, without a failed batch or checkpoint in either replica.
	if out := runCmd(t, bin, "audit", "verify", "--store", store, "--keys", keys); !strings.Contains(out, "audit log OK") {
		t.Errorf("audit verify: %s", out)
	}
	for i, l := range logs {
		for _, bad := range []string{"audit batch failed", "audit checkpoint failed"} {
			if strings.Contains(l.String(), bad) {
				t.Errorf("replica %d logged %q:\n%s", i, bad, l.notable())
			}
		}
	}
}

// checkPersonOrder checks that each person's copies arrived in the order of their seqs
// (a copy may come twice, at-least-once; its first arrival counts).
func checkPersonOrder(t *testing.T, inb *inbox, want []string) {
	t.Helper()
	inb.mu.Lock()
	defer inb.mu.Unlock()
	last := map[string]int64{}
	seen := map[string]bool{}
	for _, ev := range inb.events {
		if seen[ev.Key] {
			continue
		}
		seen[ev.Key] = true
		seq, _ := strconv.ParseInt(strings.TrimPrefix(strings.SplitN(ev.Key, "/", 2)[0], "civil:"), 10, 64)
		if seq < last[ev.Person] {
			t.Errorf("person %s: change %d arrived after %d", ev.Person, seq, last[ev.Person])
		}
		last[ev.Person] = seq
	}
}

// serveReplica starts `crossroads serve` on store and the NATS at natsURL, with more
// flags, its log (JSON, info and up) in out.
func serveReplica(t *testing.T, bin, store, natsURL, keys string, out io.Writer, more ...string) (kill func(), base string) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, append([]string{"--log-level", "info", "serve", "--store", store, "--nats", natsURL, "--keys", keys, "--addr", addr,
		"--public-url", "http://hub.replicas.test"}, more...)...) // the issuer of tokens, one for all replicas
	cmd.Stdout, cmd.Stderr = io.Discard, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	base = "http://" + addr
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // the only Wait: a second one would block for ever
	kill = func() {
		cmd.Process.Kill()
		err := <-exited
		exited <- err
	}
	t.Cleanup(kill)
	// Generous: on a loaded machine a replica may take long to start; the wait ends as
	// soon as it is ready, or as soon as it has exited, saying why.
	var died error
	err := testwait.Until(60*time.Second, func() error {
		select {
		case err := <-exited:
			exited <- err
			died = fmt.Errorf("the replica at %s exited: %v", base, err)
			return nil // no use waiting
		default:
		}
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return fmt.Errorf("%s to be ready: %v", base, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s to be ready: /readyz answers %d", base, resp.StatusCode)
		}
		return nil
	})
	if err = cmp.Or(died, err); err != nil {
		t.Fatalf("%v; its log:\n%s", err, tail(fmt.Sprint(out), 4000))
	}
	return kill, base
}

// tail is the end of s, at most n bytes.
func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// searchRaw sends one search with message id id and returns the answer's body.
func searchRaw(t *testing.T, c *http.Client, base, token, id string) []byte {
	t.Helper()
	ts := time.Now().UTC().Format(time.RFC3339)
	body := fmt.Sprintf(`{"signature":"","header":{"version":"1.0.0","message_id":%q,"message_ts":%q,"action":"search","sender_id":"replicas","total_count":1},`+
		`"message":{"transaction_id":%q,"search_request":[{"reference_id":"r","timestamp":%q,"search_criteria":{"query_type":"idtype-value","query":{"type":"PN","value":%q}},"locale":"eng"}]}}`,
		id, ts, id, ts, synth.FixtureNumber)
	req, _ := http.NewRequest("POST", base+"/dci/crvs/registry/sync/search", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

// subscribeMoves points the pension fund's subscription at endpoint for moves, and
// returns pensioners it has a file on.
func subscribeMoves(t *testing.T, store, endpoint string) []string {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, store, sqlstore.Hub)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := directory.New(db.Directory(), nil)
	id := "sub-" + strings.ToLower(synth.PensionFund)
	sub, _, err := directory.Get[directory.Subscription](ctx, d, id)
	if err != nil {
		t.Fatal(err)
	}
	sub.Endpoint = endpoint + "/" + id
	if !slices.Contains(sub.EventTypes, "address") {
		sub.EventTypes = append(sub.EventTypes, "address")
	}
	if _, _, err := directory.Put(ctx, d, "test", sub, directory.AnyVersion); err != nil {
		t.Fatal(err)
	}
	page, err := d.Store().Integrations(ctx, directory.IntegrationQuery{Institution: synth.PensionFund, Day: d.Today(), Limit: 8})
	if err != nil || len(page) < 4 {
		t.Fatalf("files of %s: %d, %v", synth.PensionFund, len(page), err)
	}
	var persons []string
	for _, g := range page {
		persons = append(persons, g.Person)
	}
	return persons
}

// postgresSchema makes a schema of its own in the database of dsn, dropped at the end,
// and returns the address that uses it.
func postgresSchema(t *testing.T, dsn string) string {
	t.Helper()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := fmt.Sprintf("replicas_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE SCHEMA " + name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + name + " CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// natsCluster starts a 3-node JetStream cluster of the test's own, in process.
func natsCluster(t *testing.T) *bus.Cluster {
	t.Helper()
	c, err := bus.StartCluster(context.Background(), t.TempDir(), "replicas", 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Shutdown)
	return c
}

// syncBuffer is a buffer a process writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// notable is the log's lines above INFO.
func (b *syncBuffer) notable() string {
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		if l != "" && !strings.Contains(l, `"level":"INFO"`) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
