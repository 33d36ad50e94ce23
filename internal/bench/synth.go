package bench

import (
	"context"
	"io"
	"path/filepath"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// Synth measures generating a nation of persons into empty SQLite stores in dir.
func Synth(ctx context.Context, dir string, persons int, progress func(string, int, int)) (*Result, error) {
	cfg := hub.Config{Store: "sqlite:" + filepath.Join(dir, "hub.db"), Civil: "sqlite:" + filepath.Join(dir, "civil.db")}
	st, err := hub.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	start := time.Now()
	sum, err := synth.Generate(ctx, synth.Config{Seed: 1, Persons: persons, Today: date.FromTime(start), Progress: progress},
		st.Civil.Population(), st.Directory)
	if err != nil {
		return nil, err
	}
	secs := time.Since(start).Seconds()
	r := newResult("synth")
	r.add("persons", "persons", sum.Persons, "")
	r.add("integrations", "person-directory lines", sum.Integrations, "")
	r.add("events", "vital events", sum.Events, "")
	r.add("employers", "employers", sum.Employers, "")
	r.add("seconds", "time", round(secs*10)/10, "s")
	r.add("persons_per_s", "persons per second", round(float64(sum.Persons)/secs), "/s")
	return r, nil
}

// DemoStart measures how long `crossroads demo` takes to serve on a fresh data folder
// (nation generated) and on the second start (data reused).
func DemoStart(ctx context.Context, dir string, persons int, progress func(string, int, int)) (*Result, error) {
	first, err := timeDemo(ctx, dir, persons, progress)
	if err != nil {
		return nil, err
	}
	second, err := timeDemo(ctx, dir, persons, nil)
	if err != nil {
		return nil, err
	}
	r := newResult("demo")
	r.add("persons", "persons", persons, "")
	r.add("first_start_s", "first start (nation generated) to serving", decimals(first.Seconds(), 3), "s")
	r.add("second_start_s", "second start to serving", decimals(second.Seconds(), 4), "s")
	return r, nil
}

// timeDemo starts the demo hub, waits until it serves and /readyz answers, and stops it.
func timeDemo(ctx context.Context, dir string, persons int, progress func(string, int, int)) (time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	ready := make(chan time.Duration, 1)
	cfg := hub.DemoConfig{
		Config: hub.Config{Addr: "127.0.0.1:0", Out: io.Discard,
			OnReady: func(url string) {
				if err := waitReady(ctx, url); err == nil {
					ready <- time.Since(start)
				}
				cancel()
			}},
		Data: dir, Persons: persons, Seed: 1, Progress: progress,
	}
	err := hub.Demo(ctx, cfg)
	select {
	case d := <-ready:
		return d, nil
	default:
		if err == nil {
			err = context.Canceled
		}
		return 0, err
	}
}
