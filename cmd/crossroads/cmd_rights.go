package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/perm"
	"github.com/crossroads-hub/crossroads/internal/rights"
	"github.com/crossroads-hub/crossroads/internal/rightsfacts"
)

// RightsCmd groups the rights engine's operator commands (#19).
type RightsCmd struct {
	Recompute RightsRecomputeCmd `cmd:"" help:"Re-evaluate every person's rights (after a rule change), with progress; resumes after the last person done when interrupted."`
	Simulate  RightsSimulateCmd  `cmd:"" help:"What a rule change would do, on the whole nation: who gains and who loses which right, by region, age band and household type. Nothing is stored."`
	NonTakeUp RightsNonTakeUpCmd `cmd:"" name:"non-take-up" help:"Persons who meet a right paid on an application on the facts, and do not receive it."`
	Rules     RightsRulesCmd     `cmd:"" help:"List the catalogue of statutes and rights, each rule in words."`
}

// rightsStores are the flags of the commands that open the stores and the audit log.
type rightsStores struct {
	Store string `help:"Store of the hub: sqlite:PATH or postgres://…" required:"" env:"CROSSROADS_STORE"`
	Civil string `help:"Store of the civil register, where the decisions live (default: the hub's store)." env:"CROSSROADS_CIVIL"`
	Keys  string `help:"File of the hub's signing keys (the audit log's checkpoints)." default:"./crossroads-hub-keys.json" env:"CROSSROADS_KEY_FILE"`
}

func (s rightsStores) run(e *env, fn func(ctx context.Context, eng *rights.Engine, access *rightsfacts.Access) error) error {
	cfg := hub.Config{Store: s.Store, Civil: s.Civil, KeyFile: s.Keys, Log: e.log}
	st, err := hub.Open(e.ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	return hub.Rights(e.ctx, cfg, st, fn)
}

// RightsRecomputeCmd re-evaluates the nation.
type RightsRecomputeCmd struct {
	rightsStores
	Restart bool `help:"Start from the first person, forgetting where an interrupted run stopped."`
	JSON    bool `help:"Print the result as JSON."`
}

func (c *RightsRecomputeCmd) Run(e *env) error {
	return c.run(e, func(ctx context.Context, eng *rights.Engine, _ *rightsfacts.Access) error {
		const job = "recompute"
		if c.Restart {
			if err := eng.Store.SetProgress(ctx, job, ""); err != nil {
				return err
			}
		}
		if last, _ := eng.Store.Progress(ctx, job); last != "" {
			fmt.Fprintf(e.stderr, "Resuming after person %s.\n", last)
		}
		p := newProgress(e.stderr)
		start := time.Now()
		res, err := eng.Nation(ctx, job, func(r rights.Result) { p.update("persons", r.Persons, -1) })
		p.finish()
		if err != nil {
			return fmt.Errorf("recompute stopped after person %s (run it again to resume): %w", res.Last, err)
		}
		took := time.Since(start)
		if c.JSON {
			return json.NewEncoder(e.stdout).Encode(map[string]any{"result": res, "seconds": took.Seconds(), "persons_per_s": float64(res.Persons) / took.Seconds()})
		}
		fmt.Fprintf(e.stdout, "%d persons in %.1f s (%.0f/s): %d decisions changed, %d failures.\n",
			res.Persons, took.Seconds(), float64(res.Persons)/took.Seconds(), res.Changed, res.Failed)
		for _, f := range res.Failures {
			fmt.Fprintf(e.stdout, "  %s %s: %s (the previous decision stays)\n", f.Person, f.Right, f.Reason)
		}
		return nil
	})
}

// RightsSimulateCmd simulates a rule change.
type RightsSimulateCmd struct {
	rightsStores
	Rule string `help:"The rule as its owner would save it (JSON): a new version of a rule of the catalogue, or a new one." required:"" type:"existingfile"`
	SVG  string `name:"svg" help:"Write a chart of the result (SVG) to this file." type:"path"`
	JSON bool   `help:"Print the result as JSON."`
}

func (c *RightsSimulateCmd) Run(e *env) error {
	data, err := os.ReadFile(c.Rule)
	if err != nil {
		return err
	}
	rule, err := rights.ParseRule(data)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Rule, err)
	}
	// The rule is checked before the stores are opened: a bad rule fails at once.
	if _, err := rights.DemoCatalogue().With(rule); err != nil {
		return fmt.Errorf("%s: %w", c.Rule, err)
	}
	return c.run(e, func(ctx context.Context, eng *rights.Engine, _ *rightsfacts.Access) error {
		proposed, err := eng.Catalogue().With(rule)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Rule, err)
		}
		p := newProgress(e.stderr)
		sim, err := eng.Simulate(ctx, proposed, func(n int) { p.update("persons", n, -1) })
		p.finish()
		if err != nil {
			return err
		}
		if c.SVG != "" {
			if err := perm.WriteFile(c.SVG, sim.SVG()); err != nil {
				return err
			}
		}
		if c.JSON {
			return json.NewEncoder(e.stdout).Encode(sim)
		}
		fmt.Fprintf(e.stdout, "What-if of %s version %d on %d persons (%.1f s; %d rule failures):\n", rule.ID, rule.Version, sim.Persons, sim.Seconds, sim.Failures)
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "right\tholders now\tafter\tgain\tlose\t")
		for _, r := range sim.Rights {
			fmt.Fprintf(tw, "%s\t%d\t%d\t+%d\t-%d\t\n", r.Right, r.Before, r.After, r.Gain, r.Lose)
		}
		tw.Flush()
		printed := false
		for _, g := range sim.Groups {
			if !printed {
				fmt.Fprintln(e.stdout, "By group (fewer than 10 shown as <10):")
				printed = true
			}
			fmt.Fprintf(e.stdout, "  %s  %s=%s  gain %s  lose %s\n", g.Right, g.Dimension, g.Value, cell(g.Gain), cell(g.Lose))
		}
		if c.SVG != "" {
			fmt.Fprintf(e.stdout, "Chart written to %s.\n", c.SVG)
		}
		return nil
	})
}

func cell(n *int) string {
	if n == nil {
		return "<10"
	}
	return fmt.Sprint(*n)
}

// RightsNonTakeUpCmd reports non-take-up.
type RightsNonTakeUpCmd struct {
	rightsStores
	List int  `help:"List up to this many person numbers a right (for the granting institution's outreach)." default:"0"`
	JSON bool `help:"Print the report as JSON."`
}

func (c *RightsNonTakeUpCmd) Run(e *env) error {
	return c.run(e, func(ctx context.Context, eng *rights.Engine, _ *rightsfacts.Access) error {
		r, err := eng.NonTakeUp(ctx, c.List)
		if err != nil {
			return err
		}
		if c.JSON {
			return json.NewEncoder(e.stdout).Encode(r)
		}
		fmt.Fprintf(e.stdout, "%d persons evaluated.\n", r.Persons)
		for _, x := range r.Rules {
			fmt.Fprintf(e.stdout, "%s (programme %s): %d meet it on the facts, %d receive it, %d do not.\n", x.Right, x.Programme, x.Meet, x.Receive, x.NotTaken)
			for _, p := range x.List {
				fmt.Fprintf(e.stdout, "  %s\n", p)
			}
		}
		for _, g := range r.Groups {
			fmt.Fprintf(e.stdout, "  %s  %s=%s  %s\n", g.Right, g.Dimension, g.Value, cell(g.Persons))
		}
		return nil
	})
}

// RightsRulesCmd lists the catalogue; it opens nothing.
type RightsRulesCmd struct {
	JSON bool `help:"Print the rules as JSON."`
}

func (c *RightsRulesCmd) Run(e *env) error {
	cat := rights.DemoCatalogue()
	if c.JSON {
		var rules []rights.Rule
		for _, r := range cat.Rules() {
			rules = append(rules, r.Rule)
		}
		return json.NewEncoder(e.stdout).Encode(rules)
	}
	for _, r := range cat.Rules() {
		fmt.Fprintf(e.stdout, "%s v%d (%s, %s): %s\n  %s\n  when %s\n", r.ID, r.Version, r.Kind, r.Institution, r.Title, r.LegalReference, rights.Readable(r.Expr, cat))
	}
	return nil
}
