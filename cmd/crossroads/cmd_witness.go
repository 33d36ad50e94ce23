package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/witness"
)

// WitnessCmd runs a checkpoint witness of a hub's audit log.
type WitnessCmd struct {
	Hub    string        `help:"The hub's URL." required:""`
	HubKey []string      `help:"The hub's verifier keys (crossroads audit key, or GET /audit/checkpoint when you first trusted it)." required:""`
	Dir    string        `help:"The witness's folder: its key and the last checkpoint it cosigned." default:"./crossroads-witness"`
	Name   string        `help:"The name of the witness's key, made on the first start (no spaces, no '+')." default:"witness.crossroads.example"`
	Every  time.Duration `help:"How often to read the hub's checkpoint." default:"2s"`
	Once   bool          `help:"Observe once and exit."`
	NoPush bool          `help:"Do not hand the cosigned checkpoints to the hub (POST /audit/cosignatures)."`
}

func (c *WitnessCmd) Run(e *env) error {
	if c.Every < 100*time.Millisecond {
		return fmt.Errorf("--every must be at least 100ms")
	}
	w, err := witness.Open(c.Dir, c.Name, c.HubKey)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "witness %s of %s; its verifier key: %s\n", c.Dir, c.Hub, w.VerifierKey())
	src := hubSource{url: strings.TrimSuffix(c.Hub, "/"), client: &http.Client{Timeout: 10 * time.Second}}
	t := time.NewTicker(c.Every)
	defer t.Stop()
	for {
		before := w.Last().Size
		cosigned, err := w.Observe(e.ctx, src)
		if err == nil && !c.NoPush {
			if perr := src.push(e.ctx, cosigned); perr != nil {
				e.log.Warn("witness: the hub did not take the cosigned checkpoint", "err", perr)
			}
		}
		var alarm *witness.Alarm
		switch {
		case errors.As(err, &alarm):
			fmt.Fprintln(e.stderr, alarm.Error())
			fmt.Fprintf(e.stderr, "the two checkpoints are kept in %s\n", c.Dir)
			return exitCode(2)
		case err != nil:
			e.log.Warn("witness: the hub's checkpoint could not be checked", "err", err)
		case w.Last().Size != before:
			fmt.Fprintf(e.stdout, "cosigned the checkpoint at size %d\n", w.Last().Size)
		}
		if c.Once {
			if err != nil {
				return err
			}
			return nil
		}
		select {
		case <-e.ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// hubSource reads a hub's checkpoints and proofs over HTTP.
type hubSource struct {
	url    string
	client *http.Client // with a timeout
}

func (h hubSource) Checkpoint(ctx context.Context) (string, error) {
	var v struct {
		Checkpoint audit.Checkpoint `json:"checkpoint"`
	}
	if err := h.get(ctx, "/audit/checkpoint", &v); err != nil {
		return "", err
	}
	return v.Checkpoint.Note, nil
}

func (h hubSource) Consistency(ctx context.Context, from, to int64) (audit.Consistency, error) {
	var c audit.Consistency
	err := h.get(ctx, fmt.Sprintf("/audit/consistency?from=%d&to=%d", from, to), &c)
	return c, err
}

// push hands a cosigned checkpoint to the hub.
func (h hubSource) push(ctx context.Context, cosigned string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url+"/audit/cosignatures", strings.NewReader(cosigned))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain")
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /audit/cosignatures: %s: %.300s", resp.Status, body)
	}
	return nil
}

func (h hubSource) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url+path, nil)
	if err != nil {
		return err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %.300s", path, resp.Status, body)
	}
	return json.Unmarshal(body, v)
}
