package hub_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/outbound"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
	"github.com/crossroads-hub/crossroads/internal/synth"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// TestKillUnderLoad kills the hub with SIGKILL while clients are being answered, three
// times (CROSSROADS_CRASH_ROUNDS=20 for the figure of issue #16); afterwards every
// answer a client received is in the audit log, bound to the exact bytes the client
// got, and `crossroads audit verify` passes. It logs the counts of each round.
func TestKillUnderLoad(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and kills the binary; not in -short")
	}
	rounds := 3
	if n, err := strconv.Atoi(os.Getenv("CROSSROADS_CRASH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	store, civil, keys := "sqlite:"+filepath.Join(dir, "hub.db"), "sqlite:"+filepath.Join(dir, "civil.db"), filepath.Join(dir, "hub-keys.json")
	runCmd(t, bin, "synth", "--store", store, "--civil", civil, "--persons", "2000", "--seed", "3")
	secret := strings.TrimSpace(runCmd(t, bin, "directory", "--store", store, "secret", synth.AppID(synth.HealthInsurer1)))
	person := synth.FixtureNumber
	got := map[int64][32]byte{} // audit record → hash of the answer received
	journaled := 0              // records acknowledged and only in the journal at a kill
	for round := range rounds {
		cmd, base := serveBinary(t, bin, store, civil, keys)
		token := tokenFor(t, base, synth.AppID(synth.HealthInsurer1), secret)
		answers := load(t, base, token, person, round, 1000, cmd)
		if len(answers) == 0 {
			t.Fatalf("round %d: no answer before the kill", round)
		}
		for seq, h := range answers {
			got[seq] = h
		}
		cmd.Wait()
		stored, first, last := unstored(t, store)
		if last > 0 {
			journaled += int(last - first + 1)
		}
		t.Logf("kill %d of %d: %d exchanges answered 200; at the kill %d records stored, records %d to %d in the journal only",
			round+1, rounds, len(answers), stored, first, last)
	}
	// The stored log is whole even while the journal holds acknowledged records.
	if out := runCmd(t, bin, "audit", "verify", "--store", store, "--keys", keys); !strings.Contains(out, "audit log OK") {
		t.Fatalf("audit verify right after the last kill: %s", out)
	}
	// Restart once more: the records acknowledged before the last kill and still in the
	// audit journal are stored as the hub opens.
	cmd, _ := serveBinary(t, bin, store, civil, keys)
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("hub after the kills: %v", err)
	}
	out := runCmd(t, bin, "audit", "verify", "--store", store, "--keys", keys)
	if !strings.Contains(out, "audit log OK") {
		t.Fatalf("audit verify after the kills: %s", out)
	}
	lost := checkRecorded(t, store, got)
	t.Logf("%d kills under load: %d exchanges answered 200, %d records acknowledged and in the journal only at a kill; %d answered exchanges missing from the log",
		rounds, len(got), journaled, lost)
}

// unstored returns the size of the stored log and the records acknowledged in the
// journal only (first, last; 0, 0 when none), read while the hub is down.
func unstored(t *testing.T, store string) (stored, first, last int64) {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), store, sqlstore.Hub)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if stored, err = db.Audit().Size(context.Background()); err != nil {
		t.Fatal(err)
	}
	if first, last, err = audit.Unstored(hub.AuditJournal(store), stored); err != nil {
		t.Fatal(err)
	}
	return stored, first, last
}

// load sends searches from 8 clients and kills the hub with SIGKILL once n have been
// answered, while requests are in flight (message ids of their own each round: a
// repeated one is refused); it returns the audit record and answer hash of
// each success.
func load(t *testing.T, base, token, person string, round, n int, cmd *exec.Cmd) map[int64][32]byte {
	var mu sync.Mutex
	out := map[int64][32]byte{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				seq, h, ok := searchOnce(client, base, token, person, round*1_000_000+g*100_000+i)
				if ok {
					mu.Lock()
					out[seq] = h
					mu.Unlock()
				}
			}
		}()
	}
	// n answers (a hub starting on a busy machine may take a while).
	waited := testwait.Until(20*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(out) < n {
			return fmt.Errorf("%d answers under load (%d so far)", n, len(out))
		}
		return nil
	})
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown, no final checkpoint
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if waited != nil {
		t.Fatal(waited)
	}
	return out
}

func searchOnce(c *http.Client, base, token, person string, i int) (int64, [32]byte, bool) {
	ts := time.Now().UTC().Format(time.RFC3339)
	body := fmt.Sprintf(`{"signature":"","header":{"version":"1.0.0","message_id":"k%d","message_ts":%q,"action":"search","sender_id":"crash","total_count":1},`+
		`"message":{"transaction_id":"k%d","search_request":[{"reference_id":"r","timestamp":%q,"search_criteria":{"query_type":"idtype-value","query":{"type":"PN","value":%q}},"locale":"eng"}]}}`, i, ts, i, ts, person)
	req, _ := http.NewRequest("POST", base+"/dci/crvs/registry/sync/search", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return 0, [32]byte{}, false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || !bytes.Contains(b, []byte(person)) {
		return 0, [32]byte{}, false
	}
	seq, err := strconv.ParseInt(resp.Header.Get("X-Audit-Records"), 10, 64)
	return seq, sha256.Sum256(b), err == nil
}

// checkRecorded opens the store and checks each answered exchange's record; it returns
// how many are missing or not bound to the answer received (each is an error).
func checkRecorded(t *testing.T, store string, got map[int64][32]byte) (lost int) {
	db, err := sqlstore.Open(context.Background(), store, sqlstore.Hub)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for seq, h := range got {
		es, err := db.Audit().Records(context.Background(), seq-1, 1)
		if err != nil || len(es) != 1 || es[0].Seq != seq {
			t.Errorf("record %d of an answered exchange is missing after the kills (%v)", seq, err)
			lost++
			continue
		}
		var rec audit.Record
		if err := json.Unmarshal(es[0].Body, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.ResponseHash != hex.EncodeToString(h[:]) || rec.Decision != "permit" {
			t.Errorf("record %d = %+v; want a permit bound to the answer the client received", seq, rec)
			lost++
		}
	}
	return lost
}

// The crossroads binary, built once per test binary in a folder TestMain removes.
var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "crossroads-hub-bin-"); binErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, "crossroads"), "github.com/crossroads-hub/crossroads/cmd/crossroads")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "crossroads")
}

// serveBinary runs `crossroads serve` on a free port and waits until it answers.
func serveBinary(t *testing.T, bin, store, civil, keys string) (*exec.Cmd, string) {
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--log-level", "warn", "serve", "--store", store, "--civil", civil, "--keys", keys, "--addr", addr)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr
	waitUp(t, base)
	return cmd, base
}

func runCmd(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "BROKEN") {
		t.Fatalf("crossroads %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitUp(t *testing.T, base string) {
	t.Helper()
	testwait.For(t, 20*time.Second, func() error {
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
}

// tokenFor gets an access token with client credentials, as the hub's applications do.
func tokenFor(t *testing.T, base, id, secret string, scopes ...string) string {
	t.Helper()
	tok, err := outbound.ClientToken(context.Background(), nil, base+oauth.TokenPath, id, secret, scopes...)
	if err != nil {
		t.Fatalf("token for %s: %v", id, err)
	}
	return tok
}
