package hub

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/g2p"
)

// notifyDeath is the part of a pushed notify event the programme reads: the hub's event
// type and the record as the router minimised it to the SP-MIS's authorization (person,
// name, birth date, death date).
type notifyDeath struct {
	Data struct {
		EventType  string `json:"event_type"`
		RegRecords []struct {
			Person    string `json:"person"`
			DeathDate string `json:"death_date"`
		} `json:"reg_records"`
	} `json:"data"`
}

// deathsOf reads the deaths of a notify's events; any other event, or one without a
// person and a death date, is skipped (the subscription asks for deaths only).
func deathsOf(events []json.RawMessage) []g2p.Death {
	var out []g2p.Death
	for _, e := range events {
		var n notifyDeath
		if json.Unmarshal(e, &n) != nil || n.Data.EventType != "death" {
			continue
		}
		for _, r := range n.Data.RegRecords {
			if d, err := date.Parse(r.DeathDate); err == nil && r.Person != "" {
				out = append(out, g2p.Death{Person: r.Person, Date: d})
			}
		}
	}
	return out
}

// programmeDeaths hands the deaths the hub pushes to the SP-MIS's subscription
// (synth.SPMISDeaths, pointed at the demo's receiver, which checks the hub's signature
// and push token first) to the programme, so that a death between registration and
// payment ends the right before the cycle. An error answers the push with 503: the hub
// pushes the batch again, and the same death twice ends nothing more.
func programmeDeaths(svc *g2p.Service, log *slog.Logger) func(ctx context.Context, events []json.RawMessage) error {
	return func(ctx context.Context, events []json.RawMessage) error {
		n, err := svc.Deaths(ctx, deathsOf(events))
		if n > 0 {
			log.Info("the programme ended rights on deaths the hub pushed", "rights_ended", n, "events", len(events))
		}
		return err
	}
}

// closeRefusedEvery ends the programme's files on the applicants it refused, every
// period, in one batch of the person directory (g2p.Service.CloseRefused); the last
// batch is closed by G2P.Close. It returns when ctx ends.
func closeRefusedEvery(ctx context.Context, svc *g2p.Service, period time.Duration, log *slog.Logger) {
	for ctx.Err() == nil {
		pause(ctx, period)
		if err := svc.CloseRefused(ctx); err != nil && ctx.Err() == nil {
			log.Warn("the programme's files on refused applicants: close", "err", err)
		}
	}
}

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
