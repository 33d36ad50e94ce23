package sqlstore_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		dsn     string
		schemas []sqlstore.Schema
	}{
		{"mysql://localhost/x", nil},
		{"sqlite:", nil},
		{"sqlite:" + filepath.Join(dir, "a.db?mode=ro"), nil},
		{"sqlite:" + filepath.Join(dir, "b.db?exclusive=maybe"), nil},
		{"sqlite:" + filepath.Join(dir, "c.db?exclusive=1&exclusive=0"), nil},
		{"sqlite:" + filepath.Join(dir, "d#.db"), nil},
		{"sqlite:" + filepath.Join(dir, "e.db?sync=sometimes"), nil},
		{"sqlite:" + filepath.Join(dir, "b.db"), []sqlstore.Schema{"audit"}},
	}
	for _, tt := range tests {
		db, err := sqlstore.Open(context.Background(), tt.dsn, tt.schemas...)
		if fault.KindOf(err) != fault.Invalid {
			t.Errorf("Open(%q, %v) = %v; want an invalid fault", tt.dsn, tt.schemas, err)
		}
		if db != nil {
			db.Close()
		}
	}
}

// TestSeparateFiles opens the hub and the civil register in two files of a new folder,
// as the demo does, and reopens them, the second time for this process only: migrations
// that ran are not run again.
func TestSeparateFiles(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	for _, opts := range []string{"", "?exclusive=1"} {
		hub, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(data, "hub.db")+opts, sqlstore.Hub)
		if err != nil {
			t.Fatalf("Open(hub): %v", err)
		}
		civil, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(data, "civil.db"), sqlstore.Civil)
		if err != nil {
			t.Fatalf("Open(civil): %v", err)
		}
		if err := hub.Ready(ctx); err != nil || hub.Dialect() != sqlstore.SQLite {
			t.Errorf("hub Ready() = %v, Dialect() = %q", err, hub.Dialect())
		}
		if err := civil.Ready(ctx); err != nil {
			t.Errorf("civil Ready() = %v", err)
		}
		hub.Close()
		civil.Close()
	}
}

// TestSyncFull checks that sync=full makes the writer's commits survive a loss of power
// (synchronous=FULL, 2), and that the default is NORMAL (1).
func TestSyncFull(t *testing.T) {
	ctx := context.Background()
	for opts, want := range map[string]int{"": 1, "?sync=normal": 1, "?sync=full": 2, "?exclusive=1&sync=full": 2} {
		db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "hub.db")+opts, sqlstore.Hub)
		if err != nil {
			t.Fatalf("Open(%q): %v", opts, err)
		}
		var got int
		if err := db.RawQueryRow(ctx, "PRAGMA synchronous").Scan(&got); err != nil || got != want {
			t.Errorf("Open(%q): synchronous = %d, %v; want %d", opts, got, err, want)
		}
		db.Close()
	}
}

// TestBothSchemas opens both schemas in one database, as PostgreSQL deployments do.
func TestBothSchemas(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t, sqlstore.Hub, sqlstore.Civil)
			if err := db.Ready(ctx); err != nil {
				t.Fatalf("Ready: %v", err)
			}
			if _, err := db.Directory().Files(ctx, "85073003328", date.Of(2024, 1, 1)); err != nil {
				t.Errorf("Files: %v", err)
			}
			if _, _, err := db.Population().Count(ctx); err != nil {
				t.Errorf("Count: %v", err)
			}
		})
	}
}

// TestClock checks that the store stamps writes with its clock and takes "today" from it.
func TestClock(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t, sqlstore.Hub)
			now := time.Date(2021, 6, 1, 12, 30, 0, 123456789, time.UTC)
			db.Now = func() time.Time { return now }
			s := db.Directory()
			r := directory.Record{Kind: directory.KindInstitution, Key: "FUND", Doc: json.RawMessage(`{}`)}
			if got, err := s.PutRecord(ctx, "admin", r, directory.MustCreate); err != nil || !got.UpdatedAt.Equal(now) {
				t.Errorf("PutRecord stamped %v, %v; want %v", got.UpdatedAt, err, now)
			}
			p := person(t, 1985, 7, 30, 33)
			lines := []directory.Line{
				{Action: directory.ActionAdd, Integration: directory.Integration{Person: p, Institution: "FUND", Capacity: "000", Begin: date.Of(2020, 1, 1), End: date.Of(2020, 12, 31)}},
				{Action: directory.ActionAdd, Integration: directory.Integration{Person: p, Institution: "FUND", Capacity: "000", Begin: date.Of(2021, 1, 1), End: date.Of(2021, 6, 1)}},
			}
			if _, err := s.Integrate(ctx, "admin", lines, directory.Atomic); err != nil {
				t.Fatal(err)
			}
			var got []string
			err := s.EachIntegration(ctx, func(g directory.Integration) error {
				got = append(got, g.Cursor())
				if !g.CreatedAt.Equal(now) {
					t.Errorf("integration created at %v; want %v", g.CreatedAt, now)
				}
				return nil
			})
			if want := []string{lines[0].Cursor(), lines[1].Cursor()}; err != nil || !slices.Equal(got, want) { // ended ones too
				t.Errorf("EachIntegration on %v gave %v, %v; want %v", now, got, err, want)
			}
		})
	}
}

func person(t testing.TB, y, m, d, seq int) string {
	p, err := ident.MakePerson(y, m, d, seq, ident.Register)
	if err != nil {
		t.Fatal(err)
	}
	return p.String()
}

// TestReadyDuringBatch checks that readiness does not wait for SQLite's writer
// connection, which a large batch holds for seconds.
func TestReadyDuringBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a large batch")
	}
	ctx := context.Background()
	db := openSQLite(t, sqlstore.Hub)
	done := make(chan error, 1)
	go func() {
		_, err := db.Directory().Integrate(ctx, "bench", benchLines(0, 50_000), directory.Atomic)
		done <- err
	}()
	testwait.For(t, 10*time.Second, testwait.True("the batch to hold the writer", func() bool { return db.WriterInUse() == 1 }))
	quick, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := db.Ready(quick); err != nil {
		t.Errorf("Ready during a batch: %v", err)
	}
	select {
	case err := <-done:
		t.Fatalf("the batch ended (%v) before Ready answered: the test proved nothing; make the batch larger", err)
	default:
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
