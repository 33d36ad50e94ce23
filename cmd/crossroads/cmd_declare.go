package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// DeclareCmd groups the employment source's operator commands (#18).
type DeclareCmd struct {
	Import DeclareImportCmd `cmd:"" help:"Ingest a quarterly declaration file (JSON lines or CSV) into the employment source, as the hub's operator: validated line by line, accepted lines stored in one transaction, a summary and the report."`
}

// DeclareImportCmd ingests a quarterly file straight into the store.
type DeclareImportCmd struct {
	File   string `arg:"" help:"The file (.jsonl or .csv)." type:"existingfile"`
	Store  string `help:"Store of the hub: sqlite:PATH or postgres://…" required:"" env:"CROSSROADS_STORE"`
	Civil  string `help:"Store of the civil register, where the employment source lives (default: the hub's store)." env:"CROSSROADS_CIVIL"`
	Format string `help:"jsonl or csv (default: from the file's extension)."`
	Report int    `help:"Lines of the report to print (rejected lines and warnings)." default:"20"`
}

func (c *DeclareImportCmd) Run(e *env) error {
	format := c.Format
	if format == "" {
		format = strings.TrimPrefix(strings.ToLower(filepath.Ext(c.File)), ".")
	}
	f, err := os.Open(c.File)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := hub.Open(e.ctx, hub.Config{Store: c.Store, Civil: c.Civil, Log: e.log})
	if err != nil {
		return err
	}
	defer st.Close()
	src := &employment.Source{Store: st.Civil.Employment()}
	p := newProgress(e.stderr)
	start := time.Now()
	file, again, err := src.Ingest(e.ctx, employment.Import{File: f, Format: format, By: "operator", May: employment.Operator,
		Progress: func(n int) { p.update("lines", n, -1) }})
	p.finish()
	if err != nil {
		return err
	}
	if again {
		fmt.Fprintf(e.stdout, "This file (sha256 %s) was ingested before, as file %d: its report.\n", file.Hash, file.ID)
	}
	took := time.Since(start)
	fmt.Fprintf(e.stdout, "File %d, %s, quarter %s: %d lines, %d accepted (%d replacing an earlier declaration), %d rejected, %d warnings, %d income changes",
		file.ID, file.Format, file.Quarter, file.Lines, file.Accepted, file.Replaced, file.Rejected, file.Warnings, file.Mutations)
	if !again {
		fmt.Fprintf(e.stdout, "; %.1f s, %.0f lines/s", took.Seconds(), float64(file.Lines)/took.Seconds())
	}
	fmt.Fprintln(e.stdout, ".")
	for i, r := range file.Report {
		if i == c.Report {
			fmt.Fprintf(e.stdout, "… and %d more.\n", len(file.Report)-i)
			break
		}
		fmt.Fprintf(e.stdout, "  line %d: %s %s %s\n", r.Line, r.Verdict, r.Field, r.Reason)
	}
	return nil
}

// writeQuarter writes the quarter's declaration file of the nation in st: one line per
// employment in force during the quarter (the person directory's employer files,
// capacity synth.CapacityEmployee), whose relations it first records in the employment
// source when missing.
func writeQuarter(e *env, st *hub.Stores, q employment.Quarter, out string) (int, error) {
	format := employment.JSONLines
	if strings.HasSuffix(strings.ToLower(out), ".csv") {
		format = employment.CSV
	}
	emp := st.Civil.Employment()
	have := map[string]bool{}
	if err := emp.QuarterRelations(e.ctx, q, func(p, en int64, _ float64) { have[fmt.Sprintf("%011d/%010d", p, en)] = true }); err != nil {
		return 0, err
	}
	var rels, missing []employment.Relation
	err := st.Directory.Store().EachIntegration(e.ctx, func(g directory.Integration) error {
		end := g.End
		if end.IsZero() {
			end = date.Max
		}
		if g.Capacity != synth.CapacityEmployee || !strings.HasPrefix(g.Institution, "E") || g.Begin > q.End() || end < q.Start() {
			return nil
		}
		r := employment.Relation{Person: g.Person, Employer: strings.TrimPrefix(g.Institution, "E"), Start: g.Begin, End: end,
			Contract: "permanent", Fraction: []float64{1, 1, 0.8, 0.5}[len(rels)%4], Sector: "200"}
		rels = append(rels, r)
		if !have[r.Person+"/"+r.Employer] {
			missing = append(missing, r)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := emp.PutRelations(e.ctx, missing); err != nil {
		return 0, err
	}
	f, err := os.Create(out)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if format == employment.CSV {
		w.WriteString(employment.CSVHeader)
	}
	var b []byte
	for _, r := range rels {
		b = employment.AppendLine(b[:0], format, employment.Plausible(q, r))
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	return len(rels), f.Close()
}
