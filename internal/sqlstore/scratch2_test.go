package sqlstore_test

import (
	"context"
	"path/filepath"
	"os"
	"syscall"
	"testing"
	"time"
	"math/rand/v2"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestScratchLookups(t *testing.T) {
	path := filepath.Join(os.TempDir(), "crossroads-bench-files-v1.db")
	db, err := sqlstore.Open(context.Background(), "sqlite:"+path, sqlstore.Hub)
	if err != nil { t.Fatal(err) }
	defer db.Close()
	persons := make([]string, 1_000_000)
	for i := range persons { persons[i] = benchPerson(i) }
	s, ctx, today := db.Directory(), context.Background(), date.FromTime(time.Now())
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 4; round++ {
		c0, w0 := cpuTime(), time.Now()
		const n = 100_000
		for range n {
			if _, err := s.Files(ctx, persons[r.IntN(len(persons))], today); err != nil { t.Fatal(err) }
		}
		t.Logf("round %d: %v wall/op, %v cpu/op", round, time.Since(w0)/n, (cpuTime()-c0)/n)
	}
}
