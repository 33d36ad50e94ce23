// Package audittest is the contract suite of audit.Store, run by every implementation
// (the SQL stores on SQLite and PostgreSQL, the in-memory store of the audit tests).
// It drives the store through a real audit.Log, as the hub does, and corrupts what the
// store holds, as someone with access to the database could, to check that Verify and
// VerifyEvidence notice.
package audittest

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

// Tamperer rewrites what a store holds behind the log's back.
type Tamperer interface {
	SetRecord(ctx context.Context, seq int64, body []byte) error
	SetHash(ctx context.Context, index int64, h tlog.Hash) error
	SetCheckpoint(ctx context.Context, size int64, note string) error
	// Truncate removes the records after seq size, with their hashes, person index
	// rows and the checkpoints of larger sizes, as someone deleting the log's tail (or,
	// at 0, the whole log) would.
	Truncate(ctx context.Context, size int64) error
}

// Open returns a new, empty store and its tamperer.
type Open func(t *testing.T) (audit.Store, Tamperer)

// Run runs the contract suite against stores from open.
func Run(t *testing.T, open Open) {
	t.Run("Store", func(t *testing.T) { testStore(t, open) })
	for _, j := range []struct {
		name string
		dir  journalDir
	}{{"", noJournal}, {"Journal", newJournal()}} {
		t.Run(j.name+"AppendVerify", func(t *testing.T) { testAppendVerify(t, open, j.dir) })
		t.Run(j.name+"Reopen", func(t *testing.T) { testReopen(t, open, j.dir) })
		t.Run(j.name+"Concurrent", func(t *testing.T) { testConcurrent(t, open, j.dir) })
		t.Run(j.name+"ByPerson", func(t *testing.T) { testByPerson(t, open, j.dir) })
		t.Run(j.name+"Evidence", func(t *testing.T) { testEvidence(t, open, j.dir) })
		t.Run(j.name+"Consistency", func(t *testing.T) { testConsistency(t, open, j.dir) })
	}
	t.Run("Fork", func(t *testing.T) { testFork(t, open) })
	t.Run("Tamper", func(t *testing.T) { testTamper(t, open) })
	t.Run("FailClosed", func(t *testing.T) { testFailClosed(t, open) })
	t.Run("Shorter", func(t *testing.T) { testShorter(t, open) })
	t.Run("Resume", func(t *testing.T) { testResume(t, open) })
	t.Run("Ranges", func(t *testing.T) { testRanges(t, open) })
	t.Run("Cosigned", func(t *testing.T) { testCosigned(t, open) })
}

// journalDir gives the Config.Journal of a test's logs: "" (none), or one folder per
// test, so that a log reopened in the test finds its predecessor's journal.
type journalDir func(t *testing.T) string

func noJournal(*testing.T) string { return "" }

func newJournal() journalDir {
	var mu sync.Mutex
	dirs := map[*testing.T]string{}
	return func(t *testing.T) string {
		mu.Lock()
		defer mu.Unlock()
		if dirs[t] == "" {
			dirs[t] = t.TempDir()
		}
		return dirs[t]
	}
}

// KeyName is the name of the test signer's key.
const KeyName = "test.crossroads.example"

type testKey ed25519.PrivateKey

func (k testKey) Sign(msg []byte) []byte { return ed25519.Sign(ed25519.PrivateKey(k), msg) }
func (k testKey) Public() ed25519.PublicKey {
	return ed25519.PrivateKey(k).Public().(ed25519.PublicKey)
}

// Signer returns a fixed test key's checkpoint signer and its verifier key; a different
// seed gives a different key.
func Signer(t testing.TB, seed byte) (audit.SignerFunc, string) {
	t.Helper()
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	key := testKey(ed25519.NewKeyFromSeed(s))
	signer, err := audit.NewSigner(KeyName, key)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := audit.VerifierKey(KeyName, key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return func() (note.Signer, error) { return signer, nil }, vkey
}

// Person returns the i-th of many valid person numbers, in their 11-digit form.
func Person(i int) string {
	p, err := ident.MakePerson(1950+i/900%50, 1+i/75%12, 1+i%28, 1+i%900, ident.Register)
	if err != nil {
		panic(err)
	}
	return p.String()
}

// Record returns a plausible record; i varies its content.
func Record(i int, persons ...string) audit.Record {
	return audit.Record{
		Time:   time.Date(2026, 3, 1, 12, 0, 0, i*1000, time.UTC),
		Client: fmt.Sprintf("app-%d", i%7), Institution: "FUND", Service: "civil.person", Purpose: "benefit-check",
		Persons: persons, Fields: []string{"name", "birth_date"}, Decision: audit.Permit,
		Reasons: []string{"authorization FUND-7 in force"}, Authorization: "FUND-7", Outcome: "answered",
		Status: 200, LatencyMicros: int64(i % 5000),
		RequestHash:  audit.HashHex(fmt.Appendf(nil, "request %d", i)),
		ResponseHash: audit.HashHex(fmt.Appendf(nil, "response %d", i)),
	}
}

// OpenLog opens a log on store with the test signer (seed 1) and closes it at the end
// of the test; a zero cfg.CheckpointEvery means an hour, so that tests choose when
// checkpoints are signed.
func OpenLog(t testing.TB, store audit.Store, cfg audit.Config) *audit.Log {
	t.Helper()
	if cfg.CheckpointEvery == 0 {
		cfg.CheckpointEvery = time.Hour
	}
	sign, _ := Signer(t, 1)
	l, err := audit.Open(context.Background(), store, sign, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	return l
}

// Append appends records i from lo to hi-1 and checks their seqs follow each other,
// after those stored already.
func Append(t testing.TB, l *audit.Log, lo, hi int, persons func(i int) []string) {
	t.Helper()
	ctx := context.Background()
	prev := l.Size()
	for i := lo; i < hi; i++ {
		var ps []string
		if persons != nil {
			ps = persons(i)
		}
		seq, err := l.Append(ctx, Record(i, ps...))
		if err != nil || seq <= prev || i > lo && seq != prev+1 {
			t.Fatalf("Append(record %d) = %d, %v; want %d", i, seq, err, prev+1)
		}
		prev = seq
	}
}

// MustVerify runs Verify and fails the test on any problem.
func MustVerify(t testing.TB, store audit.Store) audit.Report {
	t.Helper()
	_, vkey := Signer(t, 1)
	rep, err := audit.Verify(context.Background(), store, []string{vkey}, nil)
	if err != nil {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
	if rep.Records != rep.Size {
		t.Fatalf("Verify checked %d of %d records", rep.Records, rep.Size)
	}
	return rep
}

// problem runs Verify and returns the problem it must find.
func problem(t *testing.T, store audit.Store) *audit.Problem {
	t.Helper()
	_, vkey := Signer(t, 1)
	_, err := audit.Verify(context.Background(), store, []string{vkey}, nil)
	var p *audit.Problem
	if !errors.As(err, &p) {
		t.Fatalf("Verify = %v; want a *audit.Problem", err)
	}
	return p
}

// Exchange returns a record as the hub writes one for a synchronous search: a client
// of one of 40 institutions, the sender's message id, one person, the fields granted,
// the reason naming the authorization and the day, the request and response hashes.
// The soak's and the size benchmark's records; i varies everything that varies.
func Exchange(i int) audit.Record {
	inst := i % 40
	auth := fmt.Sprintf("AUTH-%03d-%d", inst, i%3)
	return audit.Record{
		Time:        time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * 211 * time.Microsecond),
		Client:      fmt.Sprintf("app-inst-%02d", inst),
		MessageID:   fmt.Sprintf("m%d-%d", i%8, i),
		Institution: fmt.Sprintf("INST-%02d", inst), Service: []string{"civil.person", "social.member", "disability.status", "farmer.record"}[i%4],
		Purpose: []string{"benefit-check", "eligibility", "fraud-prevention"}[i%3],
		Persons: []string{Person(i * 7919 % 900_000)}, Fields: []string{"given_name", "family_name", "birth_date", "address", "household"},
		Decision: audit.Permit, Reasons: []string{"authorization " + auth + " (permit) in force on 2026-12-07"},
		Authorization: auth, Outcome: "answered", Status: 200, LatencyMicros: int64(300 + i%4000),
		RequestHash:  audit.HashHex(fmt.Appendf(nil, "request %d", i)),
		ResponseHash: audit.HashHex(fmt.Appendf(nil, "response %d", i)),
	}
}
