package hub

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/events"
	"github.com/crossroads-hub/crossroads/internal/g2p"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// deathCopy is the part of a delivered copy the programme reads: the event's type, the
// person, its date, and the record as the router minimised it to the SP-MIS's
// authorization (name, birth date, death date).
type deathCopy struct {
	Key    string `json:"key"`
	Type   string `json:"type"`
	Person string `json:"person"`
	Date   string `json:"date"`
	Record struct {
		DeathDate string `json:"death_date"`
	} `json:"record"`
}

// deathOf reads a delivered copy: the death it tells, ok false for any other event
// (acknowledged and ignored: the subscription asks for deaths only).
func deathOf(c deathCopy) (g2p.Death, bool) {
	if c.Type != "death" {
		return g2p.Death{}, false
	}
	d, err := date.Parse(c.Record.DeathDate)
	if err != nil {
		if d, err = date.Parse(c.Date); err != nil {
			return g2p.Death{}, false
		}
	}
	return g2p.Death{Person: c.Person, Date: d}, true
}

// followDeaths hands the programme the deaths the hub's mutations machinery delivers to
// the SP-MIS's subscription (synth.SPMISDeaths), as they come, so that a death between
// registration and payment ends the right before the cycle. A copy is acknowledged once
// the programme has ended the right; a failure leaves the batch unacknowledged, and the
// hub offers it again a minute later. It returns when ctx ends.
func followDeaths(ctx context.Context, ev *events.Pipeline, svc *g2p.Service, log *slog.Logger) {
	for ctx.Err() == nil {
		msgs, err := ev.Next(ctx, synth.SPMISDeaths, 100, 30*time.Second)
		if err != nil {
			log.Warn("the programme's deaths: take the delivered copies", "err", err)
			pause(ctx, 5*time.Second)
			continue
		}
		keys := make([]string, 0, len(msgs))
		var ds []g2p.Death
		for _, m := range msgs {
			var c deathCopy
			if err := json.Unmarshal(m, &c); err != nil {
				continue // the hub's own copies are well formed; unread, it is offered again
			}
			keys = append(keys, c.Key)
			if d, ok := deathOf(c); ok {
				ds = append(ds, d)
			}
		}
		if len(keys) == 0 {
			continue
		}
		n, err := svc.Deaths(ctx, ds)
		if err != nil {
			log.Warn("the programme's deaths: end the rights", "err", err, "deaths", len(ds))
			pause(ctx, 5*time.Second)
			continue
		}
		if _, err := ev.Ack(ctx, synth.SPMISDeaths, keys); err != nil && ctx.Err() == nil {
			log.Warn("the programme's deaths: acknowledge", "err", err)
		}
		if n > 0 {
			log.Info("the programme ended rights on deaths the hub delivered", "rights_ended", n, "copies", len(keys))
		}
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
