package hub

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/witness"
)

// The demo runs one witness in process (<data>/witness), so that the flow of issue #16
// is visible: every 2 s it cosigns the hub's latest checkpoint once a consistency proof
// shows it extends the last one it cosigned, and hands it to the log, which serves it
// with GET /audit/checkpoint. A real witness runs elsewhere (`crossroads witness`).

// demoWitnessName names the embedded witness's key.
const demoWitnessName = "demo-witness.crossroads.example"

// prepareWitness makes (or reads) the embedded witness's key before the hub starts, so
// that the hub expects it.
func prepareWitness(cfg *Config, dir string) error {
	w, err := witness.Open(dir, demoWitnessName, []string{"the hub's key, read when it starts"})
	if err != nil {
		return err
	}
	if !slices.Contains(cfg.Witnesses, w.VerifierKey()) {
		cfg.Witnesses = append(cfg.Witnesses, w.VerifierKey())
	}
	cfg.witnessDir = dir
	return nil
}

// logSource is the hub's own log as a witness reads it.
type logSource struct{ l *audit.Log }

func (s logSource) Checkpoint(ctx context.Context) (string, error) {
	cp, err := s.l.Checkpoint(ctx)
	return cp.Note, err
}

func (s logSource) Consistency(ctx context.Context, from, to int64) (audit.Consistency, error) {
	return s.l.Consistency(ctx, from, to)
}

// runWitness starts the embedded witness; the returned function stops it and waits.
func runWitness(ctx context.Context, dir string, hubKeys []string, l *audit.Log, log *slog.Logger) (stop func(), err error) {
	w, err := witness.Open(dir, demoWitnessName, hubKeys)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			cosigned, err := w.Observe(ctx, logSource{l})
			var alarm *witness.Alarm
			switch {
			case errors.As(err, &alarm):
				log.Error("the demo's witness raised an alarm", "err", alarm.Error())
				return
			case err != nil:
				log.Debug("the demo's witness could not check the checkpoint", "err", err)
				continue
			}
			if _, err := l.AddCosignature(ctx, cosigned); err != nil {
				log.Warn("the hub refused its demo witness's cosignature", "err", err)
			}
		}
	}()
	return func() { cancel(); <-done }, nil
}
