package sqlstore_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

// TestCosignaturesAcrossReplicas: three logs on one PostgreSQL schema, as three replicas
// of the hub, sharing the folder of the published checkpoint (beside a shared key file).
// A cosignature of a checkpoint one replica signed, handed to another that has not
// appended as far, is taken, and all three serve it; a smaller one handed to the third
// leaves the largest served; a cosignature by a key the hub does not expect, or of a
// checkpoint of another log (same size, same hub key), is refused and changes nothing.
// The files beside the key file hold the largest checkpoint and cosignature.
func TestCosignaturesAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	wkey, wvkey, _ := note.GenerateKey(rand.Reader, "dpa.example")
	strangerKey, _, _ := note.GenerateKey(rand.Reader, "stranger.example")
	published := filepath.Join(t.TempDir(), "audit-checkpoint")
	cfg := audit.Config{Witnesses: []string{wvkey}, Published: published}
	var logs []*audit.Log
	dbs := openPostgresReplicas(t, 3, sqlstore.Hub)
	for _, db := range dbs {
		logs = append(logs, audittest.OpenLog(t, db.Audit(), cfg))
	}
	audittest.Append(t, logs[0], 0, 10, nil)
	cp10, err := logs[0].CheckpointNow(ctx)
	if err != nil || cp10.Size != 10 {
		t.Fatalf("replica 0: CheckpointNow = %d, %v; want 10", cp10.Size, err)
	}
	audittest.Append(t, logs[1], 10, 20, nil)
	cp20, err := logs[1].CheckpointNow(ctx)
	if err != nil || cp20.Size != 20 {
		t.Fatalf("replica 1: CheckpointNow = %d, %v; want 20", cp20.Size, err)
	}
	// Every replica serves the latest checkpoint saved, whichever signed it.
	for i, l := range logs {
		if cp, err := l.Checkpoint(ctx); err != nil || cp.Size != 20 || cp.Note != cp20.Note {
			t.Errorf("replica %d: Checkpoint = %d, %v; want replica 1's at 20", i, cp.Size, err)
		}
	}
	if c, err := logs[0].AddCosignature(ctx, audittest.Cosign(t, cp20.Note, wkey)); err != nil || c.Size != 20 {
		t.Fatalf("replica 0 (10 records of its own) took replica 1's checkpoint at 20, cosigned: %+v, %v", c, err)
	}
	if _, err := logs[2].AddCosignature(ctx, audittest.Cosign(t, cp10.Note, wkey)); err != nil {
		t.Errorf("replica 2: an older cosigned checkpoint: %v", err)
	}

	// Another log, signed with the same key, at the same size.
	other := audittest.OpenLog(t, openPostgresReplicas(t, 1, sqlstore.Hub)[0].Audit(), audit.Config{})
	audittest.Append(t, other, 100, 120, nil)
	otherCP, err := other.CheckpointNow(ctx)
	if err != nil || otherCP.Size != 20 {
		t.Fatalf("the other log: %d, %v", otherCP.Size, err)
	}
	for name, c := range map[string]struct {
		note string
		want fault.Kind
	}{
		"a cosignature by a key the hub does not expect": {audittest.Cosign(t, cp20.Note, strangerKey), fault.Forbidden},
		"another log's checkpoint, cosigned":             {audittest.Cosign(t, otherCP.Note, wkey), fault.Invalid},
	} {
		for i, l := range logs {
			if _, err := l.AddCosignature(ctx, c.note); fault.KindOf(err) != c.want {
				t.Errorf("replica %d: %s: %v; want %v", i, name, err, c.want)
			}
		}
	}

	for i, l := range logs {
		cs, err := l.Cosignatures(ctx)
		if err != nil || len(cs) != 1 || cs[0].Witness != "dpa.example" || cs[0].Size != 20 || cs[0].Note != audittest.Cosign(t, cp20.Note, wkey) {
			t.Errorf("replica %d serves %+v, %v; want dpa.example's cosignature at 20", i, cs, err)
		}
	}
	// A replica that expects another witness (or none) serves none of these, though
	// the store is shared.
	stranger := audit.Config{Witnesses: []string{wvkeyOther(t)}}
	for name, cfg := range map[string]audit.Config{"another witness": stranger, "no witness": {}} {
		l := audittest.OpenLog(t, dbs[0].Audit(), cfg)
		if cs, err := l.Cosignatures(ctx); err != nil || len(cs) != 0 {
			t.Errorf("a replica expecting %s serves %+v, %v; want none", name, cs, err)
		}
	}
	if cp, _, err := audit.ReadPublished(published); err != nil || cp.Size != 20 {
		t.Errorf("the published checkpoint beside the key file: %d, %v; want 20", cp.Size, err)
	}
	_, hubKey := audittest.Signer(t, 1)
	db := openPostgresReplicas(t, 1, sqlstore.Hub)[0] // an empty store: CheckCosigned reads the file
	if cs, _ := audit.CheckCosigned(ctx, db.Audit(), published, []string{hubKey}); len(cs) != 1 || cs[0].Size != 20 {
		t.Errorf("the cosigned checkpoints beside the key file: %+v; want dpa.example's at 20", cs)
	}
}

// wvkeyOther is the verifier key of a witness the hub was not told of.
func wvkeyOther(t *testing.T) string {
	_, vkey, err := note.GenerateKey(rand.Reader, "other-witness.example")
	if err != nil {
		t.Fatal(err)
	}
	return vkey
}
