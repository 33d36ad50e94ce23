package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// AuditCmd checks the audit log.
type AuditCmd struct {
	Verify            AuditVerifyCmd            `cmd:"" help:"Recompute the Merkle tree from the stored records and check every signed checkpoint."`
	VerifyEvidence    AuditVerifyEvidenceCmd    `cmd:"" help:"Check one record's evidence file offline, with nothing but the hub's public key."`
	VerifyConsistency AuditVerifyConsistencyCmd `cmd:"" help:"Check that a later checkpoint extends one saved earlier (a proof from a file, the hub or its store)."`
	ProveLine         AuditProveLineCmd         `cmd:"" help:"The evidence of one line of a batch consultation's answers: its record's evidence and the line's proof, without the other lines."`
	VerifyLine        AuditVerifyLineCmd        `cmd:"" help:"Check one line's evidence offline, with nothing but the hub's public key."`
	Key               AuditKeyCmd               `cmd:"" help:"Print the verifier key of the hub's keys, to publish."`
}

// AuditVerifyCmd verifies the whole log.
type AuditVerifyCmd struct {
	Store       string   `help:"Store of the hub." default:"sqlite:./crossroads-data/hub.db" env:"CROSSROADS_STORE"`
	Keys        string   `help:"The hub's key file; its public keys verify the checkpoints." default:"./crossroads-data/hub-keys.json" env:"CROSSROADS_KEY_FILE"`
	VerifierKey []string `help:"Verifier keys (as /audit/checkpoint publishes them), in addition to or instead of --keys."`
	// Resuming: issue #22.
	Resume         bool   `help:"Check only the records after the last checkpoint a previous run verified (remembered beside the published checkpoint); the whole log when none is remembered."`
	FromCheckpoint string `help:"Check only the records after this checkpoint (a file holding its signed note), verified before." type:"path"`
	Workers        int    `help:"Workers hashing records in parallel (0: one per processor)."`
}

func (c *AuditVerifyCmd) Run(e *env) error {
	keys := c.VerifierKey
	if c.Keys != "" {
		ks, err := verifierKeys(c.Keys)
		if err != nil && len(keys) == 0 {
			return err
		}
		keys = append(keys, ks...)
	}
	db, err := sqlstore.Open(e.ctx, c.Store, sqlstore.Hub)
	if err != nil {
		return err
	}
	defer db.Close()
	from, err := c.resumeFrom()
	if err != nil {
		return err
	}
	p := newVerifyProgress(e.stderr)
	start := time.Now()
	rep, err := audit.VerifyWith(e.ctx, db.Audit(), keys, audit.VerifyOptions{From: from, Workers: c.Workers, Progress: p.update})
	p.finish()
	if err != nil {
		fmt.Fprintf(e.stdout, "audit log BROKEN after %d good records: %v\n", rep.Records, err)
		return exitCode(1)
	}
	if err := c.remember(rep.Last); err != nil {
		return err
	}
	var first, last int64
	var torn audit.TornEnd
	if dir := hub.AuditJournal(c.Store); dir != "" {
		if first, last, err = audit.Unstored(dir, rep.Records); err != nil {
			fmt.Fprintf(e.stdout, "audit journal BROKEN: %v\n", err)
			return exitCode(1)
		}
		if torn, err = audit.JournalTorn(dir); err != nil {
			fmt.Fprintf(e.stdout, "audit journal BROKEN: %v\n", err)
			return exitCode(1)
		}
	}
	if path := hub.AuditPublished(c.Store, c.Keys); path != "" {
		cp, ok, err := audit.CheckPublished(e.ctx, db.Audit(), path, keys)
		if err != nil {
			fmt.Fprintf(e.stdout, "audit log BROKEN: %v\n", err)
			return exitCode(1)
		}
		if !ok {
			fmt.Fprintf(e.stdout, "no published checkpoint remembered in %s (a hub that never signed one, or the file was removed): a shorter log cannot be told\n", path)
		} else {
			fmt.Fprintf(e.stdout, "the store holds the checkpoint published at size %d (remembered in %s)\n", cp.Size, path)
		}
		cs, err := audit.CheckCosigned(e.ctx, db.Audit(), path, keys)
		if err != nil {
			fmt.Fprintf(e.stdout, "audit log BROKEN: %v\n", err)
			return exitCode(1)
		}
		for _, c := range cs {
			fmt.Fprintf(e.stdout, "the store holds the checkpoint the witness %s cosigned at size %d (remembered in %s)\n", c.Witness, c.Size, audit.CosignedPath(path))
		}
	}
	if rep.From > 0 {
		fmt.Fprintf(e.stdout, "resumed after the checkpoint at size %d, verified before: records %d to %d checked\n", rep.From, rep.From+1, rep.Records)
	}
	fmt.Fprintf(e.stdout, "audit log OK: %d records, %d checkpoints verified in %.1f s; root %s\n",
		rep.Records, rep.Checkpoints, time.Since(start).Seconds(), rep.Root)
	if last > 0 {
		fmt.Fprintf(e.stdout, "the audit journal %s holds records %d to %d, acknowledged and not yet stored: the hub stores them when it starts\n", hub.AuditJournal(c.Store), first, last)
	}
	if torn.Bytes > 0 {
		fmt.Fprintf(e.stdout, "the audit journal ends with a write cut short: %d bytes at offset %d of %s, ignored (a frame is acknowledged only once written whole)\n",
			torn.Bytes, torn.Offset, torn.Segment)
	}
	return nil
}

// verifierKeys returns the verifier keys of a key file and of every key it ever held.
func verifierKeys(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ks, err := oauth.LoadKeySet(b, time.Now)
	if err != nil {
		return nil, err
	}
	out, err := hub.ReadVerifiers(path)
	if err != nil {
		return nil, err
	}
	for _, k := range ks.Keys() {
		v, err := audit.VerifierKey(hub.AuditKeyName, k.Public)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// AuditVerifyEvidenceCmd checks an evidence file.
type AuditVerifyEvidenceCmd struct {
	File        string   `arg:"" help:"Evidence file (JSON from GET /audit/records/{seq}/evidence)."`
	VerifierKey []string `help:"A verifier key of the hub (GET /audit/checkpoint's verifier_key), trusted for a checkpoint of any size."`
	Checkpoint  string   `help:"GET /audit/checkpoint's answer, saved: its key history (verifier_keys) verifies a checkpoint signed before a rotation of the hub's key with the key that signed then, and no other." type:"path"`
}

func (c *AuditVerifyEvidenceCmd) Run(e *env) error {
	b, err := os.ReadFile(c.File)
	if err != nil {
		return err
	}
	var ev audit.Evidence
	if err := json.Unmarshal(b, &ev); err != nil {
		return fmt.Errorf("%s is not an evidence file: %w", c.File, err)
	}
	keys, err := c.keys()
	if err != nil {
		return err
	}
	rec, err := audit.VerifyEvidenceKeys(ev, keys)
	if err != nil {
		fmt.Fprintf(e.stdout, "evidence INVALID: %v\n", err)
		return exitCode(1)
	}
	fmt.Fprintf(e.stdout, "evidence OK: record %d (%s, %s by %s of %s) is in the signed log\n",
		rec.Seq, rec.Time.Format(time.RFC3339), rec.Decision, rec.Client, rec.Institution)
	return nil
}

// keys returns the keys to verify with: the key history of --checkpoint, each key for
// the checkpoints it signed, and the --verifier-key keys for any.
func (c *AuditVerifyEvidenceCmd) keys() ([]audit.KeyPeriod, error) {
	var keys []audit.KeyPeriod
	if c.Checkpoint != "" {
		b, err := os.ReadFile(c.Checkpoint)
		if err != nil {
			return nil, err
		}
		var v struct {
			Keys []audit.KeyPeriod `json:"verifier_keys"`
		}
		if err := json.Unmarshal(b, &v); err != nil || len(v.Keys) == 0 {
			return nil, fmt.Errorf("--checkpoint: %s is not GET /audit/checkpoint's answer with its key history (verifier_keys)", c.Checkpoint)
		}
		keys = v.Keys
	}
	for _, k := range c.VerifierKey {
		keys = append(keys, audit.KeyPeriod{Key: k})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("give --checkpoint (GET /audit/checkpoint's answer, saved) or --verifier-key")
	}
	return keys, nil
}

// AuditKeyCmd prints verifier keys.
type AuditKeyCmd struct {
	Keys string `help:"The hub's key file." default:"./crossroads-data/hub-keys.json" env:"CROSSROADS_KEY_FILE"`
}

func (c *AuditKeyCmd) Run(e *env) error {
	keys, err := verifierKeys(c.Keys)
	if err != nil {
		return err
	}
	for _, k := range keys {
		fmt.Fprintln(e.stdout, k)
	}
	return nil
}
