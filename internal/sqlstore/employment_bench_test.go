package sqlstore_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/employment"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// BenchmarkQuarterIngest measures the ingest of a quarterly file of 200,000 workers on
// SQLite (read, validated, stored, an income event each), as `crossroads bench
// declarations` does, reporting lines/s and the CPU time a line costs (the rate says
// more about the neighbours on a shared machine). Run with -benchtime=1x.
func BenchmarkQuarterIngest(b *testing.B) {
	const n = 200_000
	ctx := context.Background()
	rels := make([]employment.Relation, n)
	persons := make([]population.Person, n)
	var file []byte
	for i := range n {
		p, _ := ident.MakePerson(1950+i%50, 1+i/50%12, 1+i/600%28, 1+i/16800%998, ident.Register)
		e, _ := ident.MakeEnterprise(300000 + i%5000)
		rels[i] = employment.Relation{Person: p.String(), Employer: e.String(), Start: date.Of(2020, 1, 1), End: date.Max,
			Contract: "permanent", Fraction: 1, Sector: "200", Status: employment.Active}
		persons[i] = population.Person{Number: p.String(), BirthDate: date.Of(1950+i%50, 1+i/50%12, 1+i/600%28), RegistryChanges: 1,
			Sex: "female", Nationality: "XXX", MaritalStatus: "single"}
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "ingest.db"), sqlstore.Civil, sqlstore.Employment)
		if err != nil {
			b.Fatal(err)
		}
		st := db.Employment()
		if err := st.PutRelations(ctx, rels); err != nil {
			b.Fatal(err)
		}
		if err := db.Population().PutPersons(ctx, persons); err != nil {
			b.Fatal(err)
		}
		file = file[:0]
		for _, r := range rels {
			file = employment.AppendLine(file, employment.JSONLines, employment.Plausible(20263, r))
		}
		src := &employment.Source{Store: st}
		b.StartTimer()
		cpu0, start := cpuTime(), time.Now()
		f, _, err := src.Ingest(ctx, employment.Import{File: bytes.NewReader(file), Format: employment.JSONLines, By: "bench", May: employment.Operator})
		took, cpu := time.Since(start), cpuTime()-cpu0
		if err != nil || f.Accepted != n || f.Mutations != n {
			b.Fatalf("Ingest: %d accepted, %d mutations, %v", f.Accepted, f.Mutations, err)
		}
		b.ReportMetric(float64(n)/took.Seconds(), "lines/s")
		b.ReportMetric(float64(cpu.Nanoseconds())/1000/n, "cpu-µs/line")
		b.StopTimer()
		// What the outbox's relay pays to read the events back, with their persons.
		cpu0 = cpuTime()
		read, after := 0, int64(0)
		for {
			evs, err := db.Population().EventsAfter(ctx, after, 1000)
			if err != nil {
				b.Fatal(err)
			}
			if len(evs) == 0 {
				break
			}
			for _, ev := range evs {
				if ev.After == nil {
					b.Fatalf("event %d carries no person", ev.Seq)
				}
			}
			read, after = read+len(evs), evs[len(evs)-1].Seq
		}
		if read != n {
			b.Fatalf("read %d events back; want %d", read, n)
		}
		b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/1000/n, "relay-cpu-µs/event")
		db.Close()
	}
}
