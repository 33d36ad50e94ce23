package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// DeclarationsOptions configure the declarations benchmark.
type DeclarationsOptions struct {
	Dir      string // a folder for the SQLite file
	Lines    int    // worker lines of the quarterly file
	Postgres string // a PostgreSQL DSN to measure as well; "": SQLite only
	// API measures immediate declarations through a running hub's API; nil: not measured.
	API func(ctx context.Context, r *Result) error
}

// benchQuarter is the quarter the benchmark declares.
const benchQuarter = employment.Quarter(20263)

// Declarations measures the quarterly ingest: a JSON-lines file of o.Lines workers,
// each with a relation, read, validated and stored (lines_per_s), against the raw insert
// of the same rows into the same store (raw_lines_per_s).
func Declarations(ctx context.Context, o DeclarationsOptions) (*Result, error) {
	if o.Lines <= 0 {
		o.Lines = 1_000_000
	}
	r := newResult("declarations")
	rels, lines, file := quarterData(o.Lines)
	r.add("lines", "quarterly file: worker lines", o.Lines, "")
	r.add("file_mb", "quarterly file: size", float64(len(file))/1e6, "MB")
	dsns := []struct{ name, dsn string }{{"sqlite", "sqlite:" + filepath.Join(o.Dir, "declarations.db")}}
	if o.Postgres != "" {
		scratch, drop, err := sqlstore.Scratch(ctx, o.Postgres)
		if err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		defer drop()
		dsns = append(dsns, struct{ name, dsn string }{"postgres", scratch})
	}
	for _, d := range dsns {
		if err := ingestOnce(ctx, r, d.name, d.dsn, rels, lines, file); err != nil {
			return nil, fmt.Errorf("%s: %w", d.name, err)
		}
	}
	if o.API != nil {
		if err := o.API(ctx, r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// quarterData makes n workers, their relations with 5,000 employers, their lines and
// the file.
func quarterData(n int) ([]employment.Relation, []employment.WageLine, []byte) {
	const employers = 5000
	ents := make([]string, employers)
	for i := range ents {
		e, _ := ident.MakeEnterprise(300000 + i)
		ents[i] = e.String()
	}
	rels := make([]employment.Relation, n)
	lines := make([]employment.WageLine, n)
	file := make([]byte, 0, n*170)
	for i := range n {
		p, _ := ident.MakePerson(1950+i%50, 1+i/50%12, 1+i/600%28, 1+i/16800%998, ident.Register)
		rels[i] = employment.Relation{Person: p.String(), Employer: ents[i%employers], Start: date.Of(2020, 1, 1), End: date.Max,
			Contract: "permanent", Fraction: []float64{1, 0.8, 0.5}[i%3], Sector: "200"}
		lines[i] = employment.Plausible(benchQuarter, rels[i])
		file = employment.AppendLine(file, employment.JSONLines, lines[i])
	}
	return rels, lines, file
}

// ingestOnce measures one store: the relations stored, then the file ingested, then the
// same lines stored raw as another file of another quarter.
func ingestOnce(ctx context.Context, r *Result, name, dsn string, rels []employment.Relation, lines []employment.WageLine, file []byte) error {
	db, err := sqlstore.Open(ctx, dsn, sqlstore.Civil, sqlstore.Employment)
	if err != nil {
		return err
	}
	defer db.Close()
	st := db.Employment()
	if err := st.PutRelations(ctx, rels); err != nil {
		return err
	}
	// The workers are in the register, so each accepted line's income is a mutation.
	if err := db.Population().PutPersons(ctx, workers(rels)); err != nil {
		return err
	}
	src := &employment.Source{Store: st}
	start := time.Now()
	f, _, err := src.Ingest(ctx, employment.Import{File: bytes.NewReader(file), Format: employment.JSONLines, By: "bench", May: employment.Operator})
	if err != nil {
		return err
	}
	took := time.Since(start)
	if f.Accepted != len(lines) || f.Mutations != len(lines) {
		return fmt.Errorf("%d lines accepted of %d, %d mutations: %+v", f.Accepted, len(lines), f.Mutations, f.Report[:min(3, len(f.Report))])
	}
	raw := make([]employment.WageLine, len(lines))
	for i, w := range lines {
		w.PersonKey, w.EmployerKey = keyOf(w.Person), keyOf(w.Employer)
		w.Line = i + 1
		raw[i] = w
	}
	sum := sha256.Sum256([]byte(name + "raw"))
	rawStart := time.Now()
	if _, err := st.StoreQuarter(ctx, employment.File{Hash: hex.EncodeToString(sum[:]), Quarter: benchQuarter + 1, Format: "raw", Received: time.Now()}, raw, nil); err != nil {
		return err
	}
	rawTook := time.Since(rawStart)
	perS := float64(len(lines)) / took.Seconds()
	rawPerS := float64(len(lines)) / rawTook.Seconds()
	key := "lines_per_s"
	if name != "sqlite" {
		key = name + "_lines_per_s"
	}
	r.add(key, name+": quarterly ingest, read + validated + stored + income mutations", perS, "lines/s")
	r.add(rawKey(name), name+": raw insert of the same rows", rawPerS, "lines/s")
	r.add(name+"_validated_over_raw", name+": ingest speed over raw insert speed", perS/rawPerS, "")
	return nil
}

// workers are the register's persons of the relations' workers.
func workers(rels []employment.Relation) []population.Person {
	out := make([]population.Person, len(rels))
	for i, r := range rels {
		pn, _ := ident.ParsePerson(r.Person)
		y, m, d := pn.BirthDate()
		// Hired through a declaration, a worker has a registry change already.
		out[i] = population.Person{Number: r.Person, BirthDate: date.Of(y, m, d), RegistryChanges: 1, Sex: "female", Nationality: "XXX", MaritalStatus: "single"}
	}
	return out
}

func rawKey(name string) string {
	if name == "sqlite" {
		return "raw_lines_per_s"
	}
	return name + "_raw_lines_per_s"
}

func keyOf(s string) int64 {
	var n int64
	for i := 0; i < len(s); i++ {
		n = n*10 + int64(s[i]-'0')
	}
	return n
}
