package synth

import (
	"context"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/population"
)

type nopPop struct{ memPop }

func (*nopPop) PutPersons(context.Context, []population.Person) error { return nil }
func (*nopPop) PutEvents(context.Context, []population.Event) error   { return nil }

type nopDir struct{ *memDir }

func (nopDir) Integrate(_ context.Context, _ string, lines []directory.Line, _ directory.BatchMode) (directory.Report, error) {
	r := directory.Report{Applied: len(lines), Lines: make([]directory.LineResult, len(lines))}
	for i := range r.Lines {
		r.Lines[i].Status = directory.LineApplied
	}
	return r, nil
}

func TestScratchNop(t *testing.T) {
	start := time.Now()
	sum, err := Generate(context.Background(), Config{Seed: 1, Persons: 1_000_000, Today: testToday}, &nopPop{}, directory.New(nopDir{newMemDir()}, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v %+v", time.Since(start), sum)
}
