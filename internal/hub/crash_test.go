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
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/outbound"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// TestKillUnderLoad kills the hub with SIGKILL while clients are being answered, three
// times; afterwards every answer a client received is in the audit log, bound to the
// exact bytes the client got, and `crossroads audit verify` passes.
func TestKillUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary; not in -short")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	store, civil, keys := "sqlite:"+filepath.Join(dir, "hub.db"), "sqlite:"+filepath.Join(dir, "civil.db"), filepath.Join(dir, "hub-keys.json")
	runCmd(t, bin, "synth", "--store", store, "--civil", civil, "--persons", "2000", "--seed", "3")
	secret := strings.TrimSpace(runCmd(t, bin, "directory", "--store", store, "secret", synth.AppID(synth.HealthInsurer1)))
	person := synth.FixtureNumber
	got := map[int64][32]byte{} // audit record → hash of the answer received
	for round := range 3 {
		cmd, base := serveBinary(t, bin, store, civil, keys)
		token := tokenFor(t, base, synth.AppID(synth.HealthInsurer1), secret)
		answers := load(t, base, token, person, 800*time.Millisecond, cmd)
		if len(answers) == 0 {
			t.Fatalf("round %d: no answer before the kill", round)
		}
		for seq, h := range answers {
			got[seq] = h
		}
		cmd.Wait()
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
	checkRecorded(t, store, got)
}

// load sends searches from 8 clients and kills the hub with SIGKILL d after the first
// answer, while requests are in flight; it returns the audit record and answer hash of each success.
func load(t *testing.T, base, token, person string, d time.Duration, cmd *exec.Cmd) map[int64][32]byte {
	var mu sync.Mutex
	out := map[int64][32]byte{}
	var wg sync.WaitGroup
	stop, first := make(chan struct{}), make(chan struct{})
	var once sync.Once
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
				seq, h, ok := searchOnce(client, base, token, person, g*100000+i)
				if ok {
					mu.Lock()
					out[seq] = h
					mu.Unlock()
					once.Do(func() { close(first) })
				}
			}
		}()
	}
	// d after the first answer (a hub starting on a busy machine may take a while).
	select {
	case <-first:
	case <-time.After(10 * time.Second):
	}
	time.Sleep(d)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown, no final checkpoint
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
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

// checkRecorded opens the store and checks each answered exchange's record.
func checkRecorded(t *testing.T, store string, got map[int64][32]byte) {
	db, err := sqlstore.Open(context.Background(), store, sqlstore.Hub)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for seq, h := range got {
		es, err := db.Audit().Records(context.Background(), seq-1, 1)
		if err != nil || len(es) != 1 || es[0].Seq != seq {
			t.Fatalf("record %d of an answered exchange is missing after the kills (%v)", seq, err)
		}
		var rec audit.Record
		if err := json.Unmarshal(es[0].Body, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.ResponseHash != hex.EncodeToString(h[:]) || rec.Decision != "permit" {
			t.Fatalf("record %d = %+v; want a permit bound to the answer the client received", seq, rec)
		}
	}
	t.Logf("%d answered exchanges, all in the verified log", len(got))
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "crossroads")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/crossroads-hub/crossroads/cmd/crossroads")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
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
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
	}
	t.Fatalf("%s never became ready", base)
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
