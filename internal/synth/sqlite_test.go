package synth

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// openSQLite opens the civil register and the hub as two SQLite files in dir, as the
// demo does, with clocks fixed at the test's today.
func openSQLite(tb testing.TB, dir string) (population.Store, *directory.Directory) {
	tb.Helper()
	ctx := context.Background()
	civil, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "civil.db"), sqlstore.Civil)
	if err != nil {
		tb.Fatal(err)
	}
	hub, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "hub.db"), sqlstore.Hub)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { civil.Close(); hub.Close() })
	clock := func() time.Time { return testToday.Time().Add(9 * time.Hour) }
	civil.Now, hub.Now = clock, clock
	return civil.Population(), directory.New(hub.Directory(), clock)
}

// generateSQLite generates a nation into fresh SQLite files and returns how long it took.
func generateSQLite(tb testing.TB, persons int) (Summary, population.Store, *directory.Directory, time.Duration) {
	tb.Helper()
	pop, dir := openSQLite(tb, tb.TempDir())
	start := time.Now()
	sum, err := Generate(context.Background(), Config{Seed: 1, Persons: persons, Today: testToday}, pop, dir)
	if err != nil {
		tb.Fatalf("Generate(%d persons) into SQLite = %v", persons, err)
	}
	return sum, pop, dir, time.Since(start)
}

// TestSQLite checks that the SQL stores accept a nation and give back the fixture.
func TestSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("writes SQLite files")
	}
	sum, pop, dir, took := generateSQLite(t, 5000)
	t.Logf("5,000 persons into SQLite in %v: %+v", took, sum)
	ctx := context.Background()
	if n, dead, err := pop.Count(ctx); err != nil || n != sum.Persons || dead != sum.Deceased {
		t.Errorf("Count() = %d, %d, %v; want %d, %d", n, dead, err, sum.Persons, sum.Deceased)
	}
	p, err := pop.PersonByBRN(ctx, FixtureBRN)
	if err != nil || p.Number != FixtureNumber {
		t.Fatalf("PersonByBRN(%s) = %s, %v; want %s", FixtureBRN, p.Number, err, FixtureNumber)
	}
	files, err := dir.Files(ctx, p.Number, testToday)
	if err != nil || len(files) != 3 {
		t.Errorf("Files(fixture) = %v, %v; want 3 files", files, err)
	}
}

// BenchmarkGenerate generates 100,000 persons into SQLite (set CROSSROADS_SYNTH_PERSONS
// for another size) and reports the figures.
func BenchmarkGenerate(b *testing.B) {
	persons := 100_000
	if s := os.Getenv("CROSSROADS_SYNTH_PERSONS"); s != "" {
		if _, err := fmt.Sscan(s, &persons); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		sum, _, _, took := generateSQLite(b, persons)
		b.ReportMetric(took.Seconds(), "s/nation")
		b.ReportMetric(float64(persons)/took.Seconds(), "persons/s")
		b.Logf("%d persons, %d events, %d person-directory lines, %d employers into SQLite in %.1f s",
			sum.Persons, sum.Events, sum.Integrations, sum.Employers, took.Seconds())
	}
}

// TestMillion is the figure the project promises: a nation of 1,000,000 persons in
// SQLite within 60 s on two cores. It runs only with CROSSROADS_SYNTH_BIG=1.
func TestMillion(t *testing.T) {
	if os.Getenv("CROSSROADS_SYNTH_BIG") != "1" {
		t.Skip("set CROSSROADS_SYNTH_BIG=1 to generate 1,000,000 persons into SQLite")
	}
	sum, _, _, took := generateSQLite(t, 1_000_000)
	t.Logf("1,000,000 persons into SQLite in %.1f s: %+v", took.Seconds(), sum)
}
