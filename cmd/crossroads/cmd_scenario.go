package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/g2p"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/ident"
)

// ScenarioCmd groups the scenarios: a chain of exchanges run end to end on the demo
// nation, each step printed with its time and the audit records that prove it.
type ScenarioCmd struct {
	OldAgeAllowance ScenarioOAACmd `cmd:"" name:"old-age-allowance" help:"An old-age allowance from registration to reconciled payment (#21): code by SMS, civil register, registries and bank through the hub, mapper, payment cycle, camt.053 statement, reconciliation."`
}

// ScenarioOAACmd runs the old-age allowance's chain for one person.
type ScenarioOAACmd struct {
	Data    string `help:"The demo's data folder (stop the demo first: the scenario appends to its audit log); a new folder gets a nation of --persons." default:"./crossroads-data" type:"path" env:"CROSSROADS_DATA"`
	Person  string `help:"The applicant's person number; empty: the first person of the nation likely to be eligible."`
	Persons int    `help:"Persons of the nation made in a new data folder." default:"20000"`
	JSON    bool   `help:"Print the steps as one JSON object."`
}

// scenarioStep is a printed step.
type scenarioStep struct {
	Phase    string  `json:"phase"`
	Name     string  `json:"step"`
	Outcome  string  `json:"outcome"`
	Millis   float64 `json:"ms"`
	Seqs     []int64 `json:"audit_records,omitempty"`
	Detail   string  `json:"detail,omitempty"`
	WhatToDo string  `json:"what_to_do,omitempty"`
}

func (c *ScenarioOAACmd) Run(e *env) error {
	if _, err := os.Stat(filepath.Join(c.Data, "hub.db")); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(e.stderr, "No nation in %s: generating one of %d persons.\n", c.Data, c.Persons)
		// The demo's own way, so `crossroads demo` serves the folder afterwards.
		p := newProgress(e.stderr)
		_, err := hub.MakeNation(e.ctx, hub.DemoConfig{Data: c.Data, Persons: c.Persons, Seed: 1, Progress: p.update})
		p.finish()
		if err != nil {
			return err
		}
	}
	cfg := hub.Config{Store: "sqlite:" + filepath.Join(c.Data, "hub.db"), Civil: "sqlite:" + filepath.Join(c.Data, "civil.db"),
		KeyFile: filepath.Join(c.Data, "hub-keys.json"), Log: e.log}
	st, err := hub.Open(e.ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	// An unknown person is refused before anything is opened or written: no file, no
	// registration, and an exit status that says so.
	if c.Person != "" {
		p, err := ident.ParsePerson(c.Person)
		if err != nil {
			return fmt.Errorf("--person: %w", err)
		}
		if _, err := st.Civil.Population().Person(e.ctx, p.String()); err != nil {
			return fmt.Errorf("--person: %s is not a person of the civil register in %s: %w", p, c.Data, err)
		}
	}
	g, err := hub.OpenG2P(e.ctx, cfg, st)
	if errors.Is(err, audit.ErrJournalInUse) {
		return fmt.Errorf("%s is in use by a running hub (crossroads demo?): stop the demo first, the scenario appends to its audit log itself: %w", c.Data, err)
	}
	if err != nil {
		return err
	}
	defer g.Close(e.ctx)
	if _, err := g.SeedBank(e.ctx, st.Civil.Population()); err != nil {
		return fmt.Errorf("open the demo bank's accounts: %w", err)
	}
	person := c.Person
	if person == "" {
		cs, err := g.Candidates(e.ctx, st.Civil.Population(), 1)
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			return errors.New("no person of this nation is likely to be eligible: name one with --person")
		}
		person = cs[0]
	} else if p, err := ident.ParsePerson(person); err != nil {
		return fmt.Errorf("--person: %w", err)
	} else {
		person = p.String()
	}
	sc := &g2p.Scenario{Service: g.Service, Bank: g.Bank, Disburser: g.Disburser, Outbox: g.Outbox}
	start := time.Now()
	var steps []scenarioStep
	add := func(phase string, ss []g2p.Step) {
		for _, s := range ss {
			steps = append(steps, scenarioStep{Phase: phase, Name: s.Name, Outcome: s.Outcome, Millis: float64(s.Duration.Microseconds()) / 1000,
				Seqs: nonZero(s.Seqs), Detail: s.Why, WhatToDo: s.What})
		}
	}
	r, err := sc.Register(e.ctx, person)
	if err != nil {
		return err
	}
	add("registration", r.Steps)
	var rep g2p.CycleReport
	var rec g2p.Reconciliation
	if r.Status == g2p.Registered {
		var ps []g2p.Step
		rep, rec, ps, err = sc.Pay(e.ctx, g.Service.Programme.NextPayDay(st.Directory.Today()))
		add("payment", ps)
		if err != nil {
			return err
		}
	}
	total := time.Since(start)
	if c.JSON {
		return json.NewEncoder(e.stdout).Encode(map[string]any{"person": person, "status": r.Status, "steps": steps,
			"cycle": rep, "reconciliation": rec, "sms": g.Outbox.To(g2p.Mobile(person)), "total_ms": total.Milliseconds()})
	}
	printScenario(e.stdout, person, r, steps, g.Outbox.To(g2p.Mobile(person)), total, c.Data)
	return nil
}

func nonZero(seqs []int64) []int64 {
	var out []int64
	for _, s := range seqs {
		if s > 0 {
			out = append(out, s)
		}
	}
	return out
}

func printScenario(w io.Writer, person string, r g2p.Registration, steps []scenarioStep, sms []g2p.Message, total time.Duration, data string) {
	fmt.Fprintf(w, "Old-age allowance for %s: %s.\n\n", person, r.Status)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "phase\tstep\toutcome\tms\taudit records\tdetail")
	for _, s := range steps {
		seqs := make([]string, len(s.Seqs))
		for i, q := range s.Seqs {
			seqs[i] = fmt.Sprint(q)
		}
		detail := s.Detail
		if s.WhatToDo != "" {
			detail += " — " + s.WhatToDo
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\t%s\n", s.Phase, s.Name, s.Outcome, s.Millis, strings.Join(seqs, " "), detail)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nSMS sent to %s (the demo's outbox):\n", g2p.Mobile(person))
	for _, m := range sms {
		fmt.Fprintf(w, "  %s  %s\n", m.At.Format(time.TimeOnly), m.Text)
	}
	fmt.Fprintf(w, "\nTotal %s. Each audit record is in the hub's log: crossroads audit verify --store sqlite:%s --keys %s; its evidence: GET /audit/records/{seq}/evidence.\n",
		total.Round(time.Millisecond), filepath.Join(data, "hub.db"), filepath.Join(data, "hub-keys.json"))
}
