package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
)

func TestScratchMillion(t *testing.T) {
	s := openSQLite(t, sqlstore.Hub).Directory()
	lines := benchLines(0, 333_334)
	start := time.Now()
	rep, err := s.Integrate(context.Background(), "x", lines, directory.Atomic)
	t.Logf("%d lines: %v applied %d err %v", len(lines), time.Since(start), rep.Applied, err)
}
