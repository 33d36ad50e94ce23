package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// DemoConfig is a hub on embedded SQLite in a data folder, with a synthetic nation.
type DemoConfig struct {
	Config
	Data     string // the data folder, created if missing
	Persons  int    // size of the synthetic nation made at first start
	Seed     uint64
	Progress func(stage string, done, total int)
}

// nationFile marks a data folder whose nation was generated completely.
const nationFile = "nation.json"

// Nation is what nation.json records about the generated nation.
type Nation struct {
	Seed      uint64        `json:"seed"`
	Today     date.Date     `json:"today"`
	Summary   synth.Summary `json:"summary"`
	Generated time.Time     `json:"generated"`
	Seconds   float64       `json:"seconds"`
}

// Demo starts the demo hub: it opens or creates the data folder, generates the nation on
// first start, and serves until ctx ends.
func Demo(ctx context.Context, cfg DemoConfig) error {
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return fmt.Errorf("create the data folder: %w", err)
	}
	cfg.Store = "sqlite:" + filepath.Join(cfg.Data, "hub.db")
	cfg.Civil = "sqlite:" + filepath.Join(cfg.Data, "civil.db")
	st, err := Open(ctx, cfg.Config)
	if err != nil {
		return err
	}
	defer st.Close()
	nation, err := ensureNation(ctx, cfg, st)
	if err != nil {
		return err
	}
	if cfg.Out != nil {
		s := nation.Summary
		fmt.Fprintf(cfg.Out, "Nation (seed %d, as of %s): %d persons (%d deceased) in %d households, %d places, %d employers, %d institutions, %d authorizations, %d person-directory lines.\n",
			nation.Seed, nation.Today, s.Persons, s.Deceased, s.Households, s.Places, s.Employers, s.Institutions, s.Authorizations, s.Integrations)
	}
	if err := ensureDemoClients(ctx, cfg.Data, st.Directory); err != nil {
		return fmt.Errorf("write the demo clients: %w", err)
	}
	if cfg.KeyFile == "" {
		cfg.KeyFile = filepath.Join(cfg.Data, "hub-keys.json")
	}
	if cfg.OnAdminToken == nil {
		cfg.OnAdminToken = func(token string) error { return saveToken(cfg, token) }
	}
	return Serve(ctx, cfg.Config, st)
}

func ensureNation(ctx context.Context, cfg DemoConfig, st *Stores) (Nation, error) {
	var n Nation
	path := filepath.Join(cfg.Data, nationFile)
	b, err := os.ReadFile(path)
	if err == nil {
		return n, json.Unmarshal(b, &n)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return n, err
	}
	persons, _, err := st.Civil.Population().Count(ctx)
	if err != nil {
		return n, err
	}
	if persons > 0 {
		return n, fmt.Errorf("the data folder %s holds an incomplete nation (the first start was interrupted); remove the folder and start again", cfg.Data)
	}
	start := time.Now()
	n = Nation{Seed: cfg.Seed, Today: date.FromTime(start), Generated: start.UTC()}
	n.Summary, err = synth.Generate(ctx, synth.Config{Seed: cfg.Seed, Persons: cfg.Persons, Today: n.Today, Progress: cfg.Progress},
		st.Civil.Population(), st.Directory)
	if err != nil {
		return n, fmt.Errorf("generate the nation: %w", err)
	}
	n.Seconds = time.Since(start).Seconds()
	b, _ = json.MarshalIndent(n, "", "  ")
	return n, os.WriteFile(path, b, 0o600)
}

// saveToken writes the bootstrap administrator token beside the data, readable only by
// its owner, so the README's examples can read it, and says where it is.
func saveToken(cfg DemoConfig, token string) error {
	path := filepath.Join(cfg.Data, "admin-token")
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return err
	}
	if cfg.Out != nil {
		fmt.Fprintf(cfg.Out, "Administrator token (shown once; also saved in %s):\n  %s\n", path, token)
	}
	return nil
}
