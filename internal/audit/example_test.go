package audit_test

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/crossroads-hub/crossroads/internal/audit"
)

// The hub opens the log on its store with its current key, appends a record per
// exchange, and publishes its verifier key; anyone holding that key checks evidence.
func Example() {
	ctx := context.Background()
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)) // the hub: keys.Current()
	sign := func() (note.Signer, error) { return audit.NewSigner("hub.crossroads.example", key(priv)) }
	vkey, _ := audit.VerifierKey("hub.crossroads.example", priv.Public().(ed25519.PublicKey))

	store, _ := newMemStore(nil) // the hub: db.Audit()
	log, err := audit.Open(ctx, store, sign, audit.Config{})
	if err != nil {
		panic(err)
	}
	defer log.Close(ctx)

	seq, err := log.Append(ctx, audit.Record{
		Client: "app-7", Institution: "FUND", Service: "civil.person", Purpose: "benefit-check",
		Persons: []string{"85073003328"}, Fields: []string{"name"}, Decision: audit.Permit,
		Outcome: "answered", Status: 200,
		RequestHash: audit.HashHex([]byte("request")), ResponseHash: audit.HashHex([]byte("response")),
	})
	if err != nil {
		panic(err) // the exchange is refused
	}
	ev, _ := log.Evidence(ctx, seq)
	r, err := audit.VerifyEvidence(ev, vkey)
	fmt.Println(r.Seq, r.Institution, r.Decision, err)
	// Output: 1 FUND permit <nil>
}
