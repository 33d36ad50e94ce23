package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/perm"
	"github.com/crossroads-hub/crossroads/internal/rights"
	"github.com/crossroads-hub/crossroads/internal/rightsfacts"
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
	// A taken address is said before the nation is made and its token printed "once".
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another hub running? --addr picks another address)", cfg.Addr, err)
	}
	l.Close()
	if err := perm.MkdirAll(cfg.Data); err != nil {
		return fmt.Errorf("create the data folder: %w", err)
	}
	if err := tightenData(cfg.Data); err != nil {
		return err
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
	if err := ensureRightsRun(ctx, cfg, st); err != nil {
		return err
	}
	cfg.receiver = true
	cfg.Portal.DevIdP, cfg.Portal.CodeToLog = true, true
	cfg.G2P = true
	if err := prepareWitness(&cfg.Config, filepath.Join(cfg.Data, "witness")); err != nil {
		return fmt.Errorf("the demo's witness: %w", err)
	}
	if cfg.OnAdminToken == nil {
		cfg.OnAdminToken = func(token string) error { return saveToken(cfg, token) }
	}
	return Serve(ctx, cfg.Config, st)
}

// ensureRightsRun makes the rights engine's first national run on a demo that has
// none (a new nation, or one made before the engine), so the portal shows decisions and
// proofs can be made from the first start (an outsider found a demo with none until
// `crossroads rights recompute` had been run by hand); the follower keeps them current.
func ensureRightsRun(ctx context.Context, cfg DemoConfig, st *Stores) error {
	if day, err := st.Civil.Rights().Progress(ctx, rights.InService); err != nil || day != "" {
		return err
	}
	start := time.Now()
	var res rights.Result
	err := Rights(ctx, cfg.Config, st, func(ctx context.Context, e *rights.Engine, _ *rightsfacts.Access) (err error) {
		res, err = e.Nation(ctx, "recompute", nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("the rights engine's first national run: %w", err)
	}
	if cfg.Out != nil {
		fmt.Fprintf(cfg.Out, "Rights: %d persons evaluated, %d decisions, in %.1f s.\n", res.Persons, res.Changed, time.Since(start).Seconds())
	}
	return nil
}

// tightenData makes everything in the demo's data folder, its own, the owner's only:
// what an older version left readable, whatever it is. The folder itself may be the
// operator's; Open warns when it is open to others.
func tightenData(data string) error {
	entries, err := os.ReadDir(data)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Type()&fs.ModeSymlink != 0 {
			continue // what it points to is not the demo's
		}
		if err := perm.Tighten(filepath.Join(data, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// MakeNation makes the demo's nation in a new data folder, as the demo's first start
// does (nation.json included), so that `crossroads demo` serves a folder made by
// another command (the scenario).
func MakeNation(ctx context.Context, cfg DemoConfig) (Nation, error) {
	if err := perm.MkdirAll(cfg.Data); err != nil {
		return Nation{}, fmt.Errorf("create the data folder: %w", err)
	}
	cfg.Store = "sqlite:" + filepath.Join(cfg.Data, "hub.db")
	cfg.Civil = "sqlite:" + filepath.Join(cfg.Data, "civil.db")
	st, err := Open(ctx, cfg.Config)
	if err != nil {
		return Nation{}, err
	}
	defer st.Close()
	return ensureNation(ctx, cfg, st)
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
		return n, fmt.Errorf("the data folder %s holds a nation without %s: either the first start was interrupted, or another command "+
			"made it (`crossroads synth`, or `crossroads scenario` before it made folders the demo serves); remove the folder and start "+
			"the demo again, or run the scenario with --data on a folder the demo made", cfg.Data, nationFile)
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
	return n, perm.WriteFile(path, b)
}

// saveToken writes the bootstrap administrator token beside the data, readable only by
// its owner, so the README's examples can read it, and says where it is.
func saveToken(cfg DemoConfig, token string) error {
	path := filepath.Join(cfg.Data, "admin-token")
	if err := perm.WriteFile(path, []byte(token+"\n")); err != nil {
		return err
	}
	if cfg.Out != nil {
		fmt.Fprintf(cfg.Out, "Administrator token (shown once; also saved in %s):\n  %s\n", path, token)
	}
	return nil
}
