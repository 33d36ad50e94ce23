package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// AuditVerifyConsistencyCmd checks that a later checkpoint extends an earlier one.
type AuditVerifyConsistencyCmd struct {
	Older       string   `arg:"" help:"A checkpoint saved earlier: the signed note, or the JSON of GET /audit/checkpoint."`
	Newer       string   `arg:"" optional:"" help:"A later checkpoint (same forms); default the one the proof carries (the hub's or the store's latest)."`
	Proof       string   `help:"A proof saved from GET /audit/consistency (offline)." xor:"source"`
	Hub         string   `help:"The hub's URL: the proof is asked of GET /audit/consistency." xor:"source"`
	Store       string   `help:"The hub's store: the proof is read from it." xor:"source"`
	VerifierKey []string `help:"The hub's verifier keys (crossroads audit key, or GET /audit/checkpoint when you first trusted it)."`
	Keys        string   `help:"The hub's key file, in addition to or instead of --verifier-key."`
}

func (c *AuditVerifyConsistencyCmd) Run(e *env) error {
	keys := c.VerifierKey
	if c.Keys != "" {
		ks, err := verifierKeys(c.Keys)
		if err != nil {
			return err
		}
		keys = append(keys, ks...)
	}
	if len(keys) == 0 {
		return fmt.Errorf("give the hub's verifier key (--verifier-key) or its key file (--keys)")
	}
	older, err := readCheckpoint(c.Older)
	if err != nil {
		return err
	}
	old, err := audit.OpenCheckpoint(older, keys...)
	if err != nil {
		return fmt.Errorf("%s: %v", c.Older, err)
	}
	var newer string
	var to int64
	if c.Newer != "" {
		if newer, err = readCheckpoint(c.Newer); err != nil {
			return err
		}
		cp, err := audit.OpenCheckpoint(newer, keys...)
		if err != nil {
			return fmt.Errorf("%s: %v", c.Newer, err)
		}
		to = cp.Size
		if to < old.Size { // no proof can help: say so before asking for one
			fmt.Fprintf(e.stdout, "audit log INCONSISTENT: the newer checkpoint (size %d) is smaller than the older (size %d): "+
				"if it was obtained later, the log was rolled back; if the two were swapped, give the older one first\n", to, old.Size)
			return exitCode(1)
		}
	}
	proof, err := c.proof(e.ctx, old.Size, to)
	if err != nil {
		return err
	}
	// A proof for other sizes proves nothing about these checkpoints, and says nothing
	// against the log either: the caller's mistake (exit 2), not an alarm (exit 1).
	if proof.From != old.Size || to != 0 && proof.To != to {
		want := fmt.Sprintf("from the older checkpoint's size %d", old.Size)
		if proof.From == old.Size {
			want = fmt.Sprintf("%d→%d", old.Size, to)
		}
		fmt.Fprintf(e.stderr, "crossroads: the proof is for sizes %d→%d, not %s: fetch the proof for these checkpoints (GET /audit/consistency?from=%d)\n",
			proof.From, proof.To, want, old.Size)
		return exitCode(2)
	}
	if newer == "" {
		if newer = proof.Checkpoint; newer == "" {
			return fmt.Errorf("the proof carries no checkpoint of size %d: give the newer checkpoint", proof.To)
		}
	}
	from, to, err := audit.VerifyConsistency(older, newer, proof.Proof, keys...)
	if err != nil {
		fmt.Fprintf(e.stdout, "audit log INCONSISTENT: %v\n", err)
		return exitCode(1)
	}
	fmt.Fprintf(e.stdout, "audit log consistent: the checkpoint at size %d extends the one at size %d\n", to, from)
	return nil
}

// proof gets the consistency proof from from to to (0: the latest checkpoint) from the
// source given; with none, two checkpoints of one size need none.
func (c *AuditVerifyConsistencyCmd) proof(ctx context.Context, from, to int64) (audit.Consistency, error) {
	switch {
	case c.Proof != "":
		b, err := os.ReadFile(c.Proof)
		if err != nil {
			return audit.Consistency{}, err
		}
		var p audit.Consistency
		if err := json.Unmarshal(b, &p); err != nil {
			return audit.Consistency{}, fmt.Errorf("%s is not a consistency proof: %w", c.Proof, err)
		}
		return p, nil
	case c.Hub != "":
		return fetchConsistency(ctx, c.Hub, from, to)
	case c.Store != "":
		db, err := sqlstore.Open(ctx, c.Store, sqlstore.Hub)
		if err != nil {
			return audit.Consistency{}, err
		}
		defer db.Close()
		if to == 0 {
			latest, err := db.Audit().LatestCheckpoint(ctx)
			if err != nil {
				return audit.Consistency{}, fmt.Errorf("the store's latest checkpoint: %w", err)
			}
			to = latest.Size
		}
		return audit.ProveConsistency(ctx, db.Audit(), from, to)
	case to != 0 && to == from:
		return audit.Consistency{From: from, To: to}, nil
	}
	return audit.Consistency{}, fmt.Errorf("give where the proof comes from: --proof FILE, --hub URL or --store DSN")
}

// fetchConsistency asks a hub for a proof, within 10 seconds.
func fetchConsistency(ctx context.Context, hub string, from, to int64) (audit.Consistency, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	q := url.Values{"from": {strconv.FormatInt(from, 10)}}
	if to > 0 {
		q.Set("to", strconv.FormatInt(to, 10))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(hub, "/")+"/audit/consistency?"+q.Encode(), nil)
	if err != nil {
		return audit.Consistency{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return audit.Consistency{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return audit.Consistency{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return audit.Consistency{}, fmt.Errorf("the hub answered %s: %.300s", resp.Status, body)
	}
	var p audit.Consistency
	if err := json.Unmarshal(body, &p); err != nil {
		return audit.Consistency{}, fmt.Errorf("the hub's answer is not a consistency proof: %w", err)
	}
	return p, nil
}

// readCheckpoint reads a saved checkpoint: the signed note as text, or JSON holding it
// (GET /audit/checkpoint's answer, a checkpoint object, or a consistency proof).
func readCheckpoint(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if s := strings.TrimSpace(string(b)); !strings.HasPrefix(s, "{") {
		return string(b), nil
	}
	var v struct {
		Checkpoint json.RawMessage `json:"checkpoint"`
		Note       string          `json:"note"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return "", fmt.Errorf("%s is not a checkpoint: %w", path, err)
	}
	if v.Note != "" {
		return v.Note, nil
	}
	var inner struct {
		Note string `json:"note"`
	}
	var text string
	if json.Unmarshal(v.Checkpoint, &inner) == nil && inner.Note != "" {
		return inner.Note, nil
	}
	if json.Unmarshal(v.Checkpoint, &text) == nil && text != "" {
		return text, nil
	}
	return "", fmt.Errorf("%s holds no signed checkpoint", path)
}
