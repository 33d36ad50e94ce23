package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// benchPerson returns the i-th of a few million distinct person numbers: 998 per birth day.
func benchPerson(i int) string {
	d := date.Of(1930, 1, 1).AddDays(i / 998)
	p, err := ident.MakePerson(d.Year(), d.Month(), d.Day(), 1+i%998, ident.Register)
	if err != nil {
		panic(err)
	}
	return p.String()
}

// benchLines returns the three integrations of each person in [lo, hi): two open today,
// one ended long ago.
func benchLines(lo, hi int) []directory.Line {
	lines := make([]directory.Line, 0, 3*(hi-lo))
	for i := lo; i < hi; i++ {
		p := benchPerson(i)
		for _, g := range []directory.Integration{
			{Person: p, Institution: "FUND", Capacity: "000", Begin: date.Of(2020, 1, 1)},
			{Person: p, Institution: "HEALTH", Capacity: "001", Begin: date.Of(2019, 1, 1), End: date.Of(2099, 12, 31)},
			{Person: p, Institution: "TAX", Capacity: "000", Begin: date.Of(2010, 1, 1), End: date.Of(2015, 12, 31)},
		} {
			lines = append(lines, directory.Line{Action: directory.ActionAdd, Integration: g})
		}
	}
	return lines
}

const filesPersons = 1_000_000

// filesDB opens the SQLite person directory of BenchmarkFiles, building it on first use
// under os.TempDir(); a marker file says that the load finished. The caller closes it.
func filesDB(b *testing.B, opts string) *sqlstore.DB {
	ctx := context.Background()
	path := filepath.Join(os.TempDir(), "crossroads-bench-files-v1.db")
	if _, err := os.Stat(path + ".done"); err != nil {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(path + suffix)
		}
		db, err := sqlstore.Open(ctx, "sqlite:"+path, sqlstore.Hub)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for lo := 0; lo < filesPersons; lo += 100_000 {
			rep, err := db.Directory().Integrate(ctx, "bench", benchLines(lo, lo+100_000), directory.Atomic)
			if err != nil || rep.Applied != 300_000 {
				b.Fatalf("load: %v, %d applied", err, rep.Applied)
			}
		}
		b.Logf("loaded %d integrations in %v", 3*filesPersons, time.Since(start))
		db.Close()
		if err := os.WriteFile(path+".done", nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	db, err := sqlstore.Open(ctx, "sqlite:"+path+opts, sqlstore.Hub)
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkFiles looks up random persons among 1,000,000 with 3 integrations each, with
// the file shared with other processes and with it kept to this process.
func BenchmarkFiles(b *testing.B) {
	persons := make([]string, filesPersons)
	for i := range persons {
		persons[i] = benchPerson(i)
	}
	for _, mode := range []struct{ name, opts string }{{"shared", ""}, {"exclusive", "?exclusive=1"}} {
		// One DB for every run of the sub-benchmark: a server keeps its pages mapped.
		db := filesDB(b, mode.opts)
		s := db.Directory()
		b.Run(mode.name, func(b *testing.B) {
			ctx, today := context.Background(), date.FromTime(time.Now())
			b.ResetTimer()
			cpu := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(rand.Uint64(), 0))
				for pb.Next() {
					gs, err := s.Files(ctx, persons[r.IntN(len(persons))], today)
					if err != nil || len(gs) != 2 {
						b.Errorf("Files gave %d integrations, %v; want 2", len(gs), err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
			b.ReportMetric(cpuMicros(cpu, b.N), "cpu-µs/lookup")
		})
		db.Close()
	}
}

// BenchmarkIntegrate applies batches of 100,000 new add lines.
func BenchmarkIntegrate(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b, sqlstore.Hub).Directory()
			const batch = 100_000
			b.ResetTimer()
			cpu := cpuTime()
			for n := range b.N {
				b.StopTimer()
				lines := benchLines(n*batch/3, (n+1)*batch/3)
				b.StartTimer()
				rep, err := s.Integrate(context.Background(), "bench", lines, directory.Atomic)
				if err != nil || rep.Applied != len(lines) {
					b.Fatalf("Integrate: %v, %d of %d applied", err, rep.Applied, len(lines))
				}
			}
			b.ReportMetric(float64(b.N*batch/3*3)/b.Elapsed().Seconds(), "lines/s")
			b.ReportMetric(cpuMicros(cpu, b.N*batch/3*3), "cpu-µs/line")
		})
	}
}

// BenchmarkPutPersons loads persons in calls of 10,000, as the register loader does.
func BenchmarkPutPersons(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b, sqlstore.Civil).Population()
			const chunk = 10_000
			b.ResetTimer()
			cpu := cpuTime()
			for n := range b.N {
				b.StopTimer()
				ps := benchPersons(n*chunk, (n+1)*chunk)
				b.StartTimer()
				if err := s.PutPersons(context.Background(), ps); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*chunk)/b.Elapsed().Seconds(), "persons/s")
			b.ReportMetric(cpuMicros(cpu, b.N*chunk), "cpu-µs/person")
		})
	}
}

func benchPersons(lo, hi int) []population.Person {
	ps := make([]population.Person, 0, hi-lo)
	for i := lo; i < hi; i++ {
		n := benchPerson(i)
		ps = append(ps, population.Person{
			Number: n, BRN: "B" + n, GivenName: "Given", FamilyName: fmt.Sprintf("Family%d", i%5000),
			Sex: "female", BirthDate: date.Of(1930, 1, 1).AddDays(i / 998), BirthPlace: "M1",
			Address: population.Address{Street: "Main Street", HouseNumber: fmt.Sprint(i % 200), PostalCode: "1000",
				Municipality: fmt.Sprintf("M%d", i%300), Region: "R1"},
			MaritalStatus: population.Single, Nationality: "BEL", Household: fmt.Sprintf("H%d", i/3),
		})
	}
	return ps
}

// cpuMicros is the process CPU time since start per operation, in microseconds. It
// includes the timer's pauses, which the benchmarks keep short.
func cpuMicros(start time.Duration, n int) float64 {
	return float64(cpuTime()-start) / float64(n) / 1e3
}
