package synth

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/population"
)

type timedPop struct {
	population.Store
	persons, events atomic.Int64
}

func (s *timedPop) PutPersons(ctx context.Context, ps []population.Person) error {
	t := time.Now()
	defer func() {
		s.persons.Add(int64(time.Since(t)))
		if os.Getenv("SCRATCH_BIG") == "1" {
			fmt.Printf("persons chunk %v total %v\n", time.Since(t).Round(time.Millisecond), time.Duration(s.persons.Load()).Round(time.Millisecond))
		}
	}()
	return s.Store.PutPersons(ctx, ps)
}
func (s *timedPop) PutEvents(ctx context.Context, ev []population.Event) error {
	t := time.Now()
	defer func() { s.events.Add(int64(time.Since(t))) }()
	return s.Store.PutEvents(ctx, ev)
}

type timedDir struct {
	directory.Store
	integrate, put atomic.Int64
}

func (s *timedDir) Integrate(ctx context.Context, a string, l []directory.Line, m directory.BatchMode) (directory.Report, error) {
	t := time.Now()
	defer func() {
		s.integrate.Add(int64(time.Since(t)))
		fmt.Printf("integrate chunk %d %v total %v\n", len(l), time.Since(t).Round(time.Millisecond), time.Duration(s.integrate.Load()).Round(time.Millisecond))
	}()
	return s.Store.Integrate(ctx, a, l, m)
}
func (s *timedDir) PutRecord(ctx context.Context, a string, r directory.Record, v int64) (directory.Record, error) {
	t := time.Now()
	defer func() { s.put.Add(int64(time.Since(t))) }()
	return s.Store.PutRecord(ctx, a, r, v)
}

func scratchPersons() int {
	if os.Getenv("SCRATCH_BIG") == "1" {
		return 1_000_000
	}
	return 100_000
}

func TestScratchTiming(t *testing.T) {
	pop, dir := openSQLite(t, t.TempDir())
	tp := &timedPop{Store: pop}
	td := &timedDir{Store: dir.Store()}
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	start := time.Now()
	var stamps []string
	_, err := Generate(context.Background(), Config{Seed: 1, Persons: scratchPersons(), Today: testToday, Progress: func(s string, d, n int) {
		stamps = append(stamps, s+" "+time.Since(start).Round(100*time.Millisecond).String())
	}}, tp, directory.New(td, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("total %v persons %v events %v integrate(store) %v putrecord %v", time.Since(start),
		time.Duration(tp.persons.Load()), time.Duration(tp.events.Load()), time.Duration(td.integrate.Load()), time.Duration(td.put.Load()))
	var ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() - ru0.Utime.Nano() + ru1.Stime.Nano() - ru0.Stime.Nano())
	t.Logf("cpu %v", cpu)
	t.Log(stamps[0], stamps[len(stamps)/4], stamps[len(stamps)/2], stamps[len(stamps)-1])
}
