package events

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/crossroads-hub/crossroads/internal/bus"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// The relay: the civil register's event log is the outbox of its changes (an event is
// written in the transaction of its change); the relay publishes what is new in it,
// in order, every relayEvery.
const (
	relayEvery = 200 * time.Millisecond
	relayBatch = 1000
)

// relay publishes the register's new events, from where it stopped, until ctx ends.
// Where it stopped is asked again every second while the bus cannot tell (a NATS server
// stopped, a leader being elected).
func (p *Pipeline) relay(ctx context.Context) {
	last, err := p.relayStart(ctx)
	for err != nil {
		if ctx.Err() != nil {
			return
		}
		p.log.Warn("events relay cannot start yet", "err", err)
		if !sleep(ctx, time.Second) {
			return
		}
		last, err = p.relayStart(ctx)
	}
	t := time.NewTicker(relayEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		last = p.relayNew(ctx, last)
	}
}

// relayNew publishes the events after last, a batch at a time, until none is left or
// one fails; it returns the seq of the last event published.
func (p *Pipeline) relayNew(ctx context.Context, last int64) int64 {
	// No further than the log is final: an event committed late by a transaction that
	// took its seq early must not be passed.
	end, err := p.civil.SettledEventSeq(ctx)
	if err != nil {
		if ctx.Err() == nil {
			p.log.Warn("read the event log", "err", err)
		}
		return last
	}
	for last < end {
		evs, err := p.civil.EventsAfter(ctx, last, relayBatch)
		if err != nil {
			if ctx.Err() == nil {
				p.log.Warn("read the event log", "err", err)
			}
			return last
		}
		if i := slices.IndexFunc(evs, func(ev population.Event) bool { return ev.Seq > end }); i >= 0 {
			evs = evs[:i]
		}
		done, err := p.publishEvents(ctx, evs)
		if done > 0 {
			last = evs[done-1].Seq
			if err := p.position.Put(ctx, "civil", strconv.AppendInt(nil, last, 10)); err != nil && ctx.Err() == nil {
				p.log.Warn("keep the relay's position", "seq", last, "err", err)
			}
		}
		if err != nil {
			if ctx.Err() == nil {
				p.log.Warn("publish a mutation", "seq", last+1, "err", err)
			}
			return last
		}
		if len(evs) < relayBatch {
			return last
		}
	}
	return last
}

// publishEvents publishes the register's events in order (one round trip a batch, not
// one an event), and returns how many of them, from the first, the stream has stored.
// What follows a failure is published again from there; the stream drops a repeat by
// its id.
func (p *Pipeline) publishEvents(ctx context.Context, evs []population.Event) (int, error) {
	return p.bus.PublishAll(ctx, mutationMsgs(evs))
}

// mutationMsgs are the register's events as stream MUTATIONS carries them: each with the
// person as its change left it (Event.After), which the route step sends.
func mutationMsgs(evs []population.Event) []bus.Msg {
	msgs := make([]bus.Msg, len(evs))
	for i, ev := range evs {
		body, _ := json.Marshal(ev)
		seq := strconv.FormatInt(ev.Seq, 10)
		msgs[i] = bus.Msg{Subject: "mutations.civil." + lane(ev.Person), Data: body, ID: "civil:" + seq,
			Header: map[string]string{"Crossroads-Seq": seq}, Order: ev.Person}
	}
	return msgs
}

// relayInit marks, on the first run, the end of the log as the relay's position, when
// the pipeline starts: the relay itself starts when this replica takes the lease, and
// what is recorded meanwhile is to be published.
func (p *Pipeline) relayInit(ctx context.Context) error {
	if _, err := p.bus.Last(ctx, streamMutations, "mutations.civil.*"); !errors.Is(err, bus.ErrNotFound) {
		return err
	}
	if _, err := p.position.Get(ctx, "civil"); !errors.Is(err, bus.ErrNotFound) {
		return err
	}
	end, err := p.civil.LastEventSeq(ctx)
	if err != nil {
		return err
	}
	return p.position.Put(ctx, "civil", strconv.AppendInt(nil, end, 10))
}

// relayStart is the seq of the last event known published: the position the relay
// keeps after each batch whose events, from the first, the stream stored, else (an older
// version kept none) the stream's last event, else, on the first run, the end of the log.
// The position comes first: when a stream leader stops, an event may be lost on its way
// while a later one (of another person) is stored, so the stream's last event does not
// prove those before it stored; the position does. Events published again from it are
// dropped as repeats by their ids.
func (p *Pipeline) relayStart(ctx context.Context) (int64, error) {
	end, err := p.civil.LastEventSeq(ctx)
	if err != nil {
		return 0, err
	}
	var last int64
	v, err := p.position.Get(ctx, "civil")
	switch {
	case err == nil:
		last, err = strconv.ParseInt(string(v), 10, 64)
	case errors.Is(err, bus.ErrNotFound):
		m, merr := p.bus.Last(ctx, streamMutations, "mutations.civil.*")
		if errors.Is(merr, bus.ErrNotFound) {
			return end, nil // first run
		}
		if merr != nil {
			return 0, merr
		}
		last, err = strconv.ParseInt(m.Header["Crossroads-Seq"], 10, 64)
	default:
		return 0, err
	}
	if err != nil || last > end {
		// The bus has seen a longer log than this register holds: another register.
		p.log.Warn("the event bus does not match the register; relaying from the register's end", "bus", last, "register", end)
		return end, nil
	}
	return last, nil
}
