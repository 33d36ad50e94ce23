package hub

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// TestDemoWitness runs the demo's embedded witness on a log: the hub expects it, and
// its cosignature of the latest checkpoint is soon served with the log's.
func TestDemoWitness(t *testing.T) {
	ctx := context.Background()
	var cfg Config
	dir := filepath.Join(t.TempDir(), "witness")
	if err := prepareWitness(&cfg, dir); err != nil {
		t.Fatal(err)
	}
	if err := prepareWitness(&cfg, dir); err != nil || len(cfg.Witnesses) != 1 || cfg.witnessDir != dir {
		t.Fatalf("prepareWitness twice: %v, witnesses %v; want the one key", err, cfg.Witnesses)
	}
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "hub.db"), sqlstore.Hub)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := audittest.OpenLog(t, db.Audit(), audit.Config{Witnesses: cfg.Witnesses, CheckpointEvery: 100 * time.Millisecond})
	_, hubKey := audittest.Signer(t, 1)
	stop, err := runWitness(ctx, dir, []string{hubKey}, l, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	audittest.Append(t, l, 0, 10, nil)
	waitFor(t, 10*time.Second, func() bool {
		cs, _ := l.Cosignatures(ctx)
		return len(cs) == 1 && cs[0].Witness == demoWitnessName && cs[0].Size == 10
	})
	audittest.Append(t, l, 10, 15, nil)
	waitFor(t, 10*time.Second, func() bool { cs, _ := l.Cosignatures(ctx); return len(cs) == 1 && cs[0].Size == 15 })
}

func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s", timeout)
		}
	}
}

// TestPowerLossStores opens the stores with --durability power (the hub's SQLite file
// with sync=full; sqlstore's TestSyncFull checks what that does): one database when the
// civil register shares the hub's file, whatever the option added.
func TestPowerLossStores(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, civil := range []string{"", "sqlite:" + filepath.Join(dir, "hub.db"), "sqlite:" + filepath.Join(dir, "civil.db")} {
		st, err := open(ctx, Config{Store: "sqlite:" + filepath.Join(dir, "hub.db"), Civil: civil, Durability: audit.PowerLoss})
		if err != nil {
			t.Fatalf("civil %q: %v", civil, err)
		}
		if same := civil != "sqlite:"+filepath.Join(dir, "civil.db"); same != (st.Hub == st.Civil) {
			t.Errorf("civil %q: one database for both = %v; want %v", civil, st.Hub == st.Civil, same)
		}
		st.Close()
	}
}
