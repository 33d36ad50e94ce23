package hub_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// What every replica answers alike (issue #17): the copies of a pull subscription,
// whichever replica handed them out, and the witnesses' cosignatures, whichever replica
// was handed them. TestReplicas runs these checks on its three replicas.

// personsOf returns persons institution has a file on today.
func personsOf(t *testing.T, store, institution string) []string {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), store, sqlstore.Hub)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := directory.New(db.Directory(), nil)
	page, err := d.Store().Integrations(context.Background(), directory.IntegrationQuery{Institution: institution, Day: d.Today(), Limit: 4})
	if err != nil || len(page) < 2 {
		t.Fatalf("files of %s: %d, %v", institution, len(page), err)
	}
	var persons []string
	for _, g := range page {
		persons = append(persons, g.Person)
	}
	return persons
}

// recordMoves records n moves of each of persons, one person after the other, and
// returns the keys of their copies for subscription, in order.
func recordMoves(t *testing.T, civil *sqlstore.DB, persons []string, n int, subscription string) []string {
	t.Helper()
	var keys []string
	for i := range n * len(persons) {
		ev, err := civil.Population().Record(context.Background(), population.Event{Type: population.EventAddress, Person: persons[i%len(persons)], Date: 20261201},
			func(pp *population.Person) error { pp.Address.HouseNumber = "pull-" + strconv.Itoa(i); return nil })
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, "civil:"+strconv.FormatInt(ev.Seq, 10)+"/"+subscription)
	}
	return keys
}

// puller is a pull subscriber, who may ask any replica.
type puller struct {
	t            *testing.T
	subscription string
	token        string
	client       *http.Client
}

type pulledCopy struct{ Key, Person string }

// next pulls at base; it returns the status and the copies.
func (p *puller) next(base string) (int, []pulledCopy) {
	p.t.Helper()
	req, _ := http.NewRequest("GET", base+"/events/"+p.subscription+"/next?max=100&wait=1s", nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := p.client.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Events []pulledCopy }
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Events
}

// pullAll pulls at base until every key of want was handed out; it checks each person's
// copies came in order, and returns the keys in the order they came.
func (p *puller) pullAll(base string, want []string) []string {
	p.t.Helper()
	var got []string
	last := map[string]int64{}
	testwait.For(p.t, 60*time.Second, func() error {
		status, cs := p.next(base)
		if status != http.StatusOK {
			return fmt.Errorf("next at %s: %d", base, status)
		}
		for _, c := range cs {
			if slices.Contains(got, c.Key) {
				continue // handed out again: not acknowledged within the wait
			}
			got = append(got, c.Key)
			seq := seqOf(c.Key)
			if seq < last[c.Person] {
				p.t.Errorf("person %s: copy %d handed out after %d", c.Person, seq, last[c.Person])
			}
			last[c.Person] = seq
		}
		for _, k := range want {
			if !slices.Contains(got, k) {
				return fmt.Errorf("%s to be handed out at %s (%d copies so far)", k, base, len(got))
			}
		}
		return nil
	})
	return got
}

func seqOf(key string) int64 {
	seq, _ := strconv.ParseInt(strings.TrimPrefix(strings.SplitN(key, "/", 2)[0], "civil:"), 10, 64)
	return seq
}

// ack acknowledges keys at base with token and returns the status and the answer.
func (p *puller) ack(base, token string, keys []string) (status, acknowledged int, unknown []string) {
	p.t.Helper()
	body, _ := json.Marshal(map[string]any{"keys": keys})
	req, _ := http.NewRequest("POST", base+"/events/"+p.subscription+"/ack", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Acknowledged int
		Unknown      []string
	}
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Acknowledged, out.Unknown
}

// checkAck acknowledges keys at base and wants them all acknowledged.
func (p *puller) checkAck(what, base string, keys []string) {
	p.t.Helper()
	if status, n, unknown := p.ack(base, p.token, keys); status != 200 || n != len(keys) || len(unknown) != 0 {
		p.t.Errorf("%s: %d, %d acknowledged, unknown %v; want 200, %d, none", what, status, n, unknown, len(keys))
	}
}

// checkRefusedAcks tries what a subscriber must not be able to do at base: acknowledge
// again, acknowledge another subscription's copy or a made-up key (none acknowledged,
// all answered unknown, and logged), send a key longer than any copy's (400), use
// another institution's token (404).
func (p *puller) checkRefusedAcks(base string, acked []string, othersCopy, othersToken string, log *syncBuffer) {
	p.t.Helper()
	tries := append(slices.Clone(acked), othersCopy, "civil:999999999/"+p.subscription)
	status, n, unknown := p.ack(base, p.token, tries)
	if status != 200 || n != 0 || len(unknown) != len(tries) {
		p.t.Errorf("acknowledged again, another's copy and a made-up key at %s: %d, %d acknowledged, unknown %v; want 200, none, all %d",
			base, status, n, unknown, len(tries))
	}
	testwait.For(p.t, 10*time.Second, testwait.True("the unknown acknowledgements to be logged", func() bool {
		return strings.Contains(log.String(), "acknowledgement of copies not handed out")
	}))
	if status, _, _ := p.ack(base, p.token, []string{acked[0], strings.Repeat("k", 301)}); status != http.StatusBadRequest {
		p.t.Errorf("a key of 301 characters: %d; want 400", status)
	}
	if status, n, _ := p.ack(base, othersToken, acked); status != http.StatusNotFound || n != 0 {
		p.t.Errorf("another institution acknowledging %s's copies: %d, %d acknowledged; want 404", p.subscription, status, n)
	}
}

// testWitness cosigns checkpoints as a witness the replicas expect.
type testWitness struct {
	signer note.Signer
	name   string
	vkey   string
}

func newTestWitness(t *testing.T) *testWitness {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "witness.replicas.test")
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return &testWitness{signer: s, name: "witness.replicas.test", vkey: vkey}
}

// cosign adds the witness's signature to msg, a note signed by the key vkey verifies.
func (w *testWitness) cosign(t *testing.T, msg, vkey string) string {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open([]byte(msg), note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	out, err := note.Sign(n, w.signer)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

type checkpointAnswer struct {
	Checkpoint  audit.Checkpoint
	VerifierKey string `json:"verifier_key"`
	Cosigned    []audit.Cosigned
}

func getCheckpoint(t *testing.T, base string) checkpointAnswer {
	t.Helper()
	resp, err := http.Get(base + "/audit/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a checkpointAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s/audit/checkpoint: %d, %v", base, resp.StatusCode, err)
	}
	return a
}

func postCosignature(t *testing.T, base, msg string) (int, string) {
	t.Helper()
	resp, err := http.Post(base+"/audit/cosignatures", "text/plain", strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// checkCosignatures: a checkpoint read at one replica, cosigned, handed to a second,
// is served by all three (GET /audit/checkpoint and the portal's transparency page); a
// cosignature by a key the hub does not expect (403) or of another log's checkpoint
// (400) is refused, logged by the replica that refused it, and changes nothing.
func checkCosignatures(t *testing.T, bases []string, logs []*syncBuffer, w *testWitness) {
	t.Helper()
	cp := getCheckpoint(t, bases[0])
	if status, body := postCosignature(t, bases[1], w.cosign(t, cp.Checkpoint.Note, cp.VerifierKey)); status != 200 {
		t.Fatalf("a cosignature handed to replica 1: %d %s", status, body)
	}
	served := func(what string) {
		for i, base := range bases {
			got := getCheckpoint(t, base).Cosigned
			if len(got) != 1 || got[0].Witness != w.name || got[0].Size != cp.Checkpoint.Size {
				t.Errorf("%s: replica %d serves the cosignatures %+v; want %s's at %d", what, i, got, w.name, cp.Checkpoint.Size)
			}
			resp, err := http.Get(base + "/portal/transparency")
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(page), w.name) {
				t.Errorf("%s: replica %d's transparency page does not show %s's cosignature (%d)", what, i, w.name, resp.StatusCode)
			}
		}
	}
	served("after the cosignature")

	stranger := newTestWitness(t)
	stranger.signer, _ = note.NewSigner(mustKey(t, "stranger.replicas.test"))
	if status, _ := postCosignature(t, bases[2], stranger.cosign(t, cp.Checkpoint.Note, cp.VerifierKey)); status != http.StatusForbidden {
		t.Errorf("a cosignature by a key the hub does not expect: %d; want 403", status)
	}
	// Another log's checkpoint at the same size (another hub's key, another root),
	// cosigned by the witness the replicas expect.
	otherSkey, otherVkey, _ := note.GenerateKey(rand.Reader, "hub.other.test")
	otherSigner, _ := note.NewSigner(otherSkey)
	other, err := note.Sign(&note.Note{Text: fmt.Sprintf("%s\n%d\n%s\n", audit.Origin, cp.Checkpoint.Size, tlog.Hash{7})}, otherSigner)
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := postCosignature(t, bases[0], w.cosign(t, string(other), otherVkey)); status != http.StatusBadRequest {
		t.Errorf("a cosigned checkpoint of another log: %d; want 400", status)
	}
	for _, r := range []struct {
		i    int
		kind string
	}{{2, "not signed by a witness this hub expects"}, {0, "has another root"}} {
		testwait.For(t, 10*time.Second, testwait.True(fmt.Sprintf("replica %d to log its refusal (%s)", r.i, r.kind), func() bool {
			for _, l := range strings.Split(logs[r.i].String(), "\n") {
				if strings.Contains(l, `"msg":"request failed"`) && strings.Contains(l, r.kind) {
					return true
				}
			}
			return false
		}))
	}
	served("after the refused cosignatures")
}

func mustKey(t *testing.T, name string) string {
	t.Helper()
	skey, _, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	return skey
}
