package rightsfacts

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/crossroads-hub/crossroads/internal/derived"
	"github.com/crossroads-hub/crossroads/internal/population"
	"github.com/crossroads-hub/crossroads/internal/rights"
)

// Relevant are the changes of the built-in sources' log that can change a right: the
// person's and their household's rights are re-evaluated.
var Relevant = []string{population.EventBirth, population.EventDeath, population.EventHousehold, population.EventAddress,
	derived.EventIncome, derived.EventDisability, derived.EventEmploymentStart, derived.EventEmploymentEnd}

// FollowJob is the progress key of the follower: the seq of the last change handled.
const FollowJob = "follow"

// Follower re-evaluates, as the built-in sources' log grows, the rights of the persons a
// relevant change concerns and of the members of their households (the log is the
// sources' outbox: a change is in it exactly when it is committed). It reads no further
// than the log is settled, remembers the last change handled with the engine's store,
// and starts, the first time, from the end of the log (a nation's run covers the past).
type Follower struct {
	Engine *rights.Engine
	Log    population.Store
	Roster population.Roster
	// Every is the pause when nothing is new; 0: 100 ms.
	Every time.Duration
	// Handled, when set, is told of each batch of changes once its decisions are stored,
	// and how long the step took from reading the log to the last commit.
	Handled func(evs []population.Event, res rights.Result, took time.Duration)
}

// Run follows the log until ctx ends.
func (f *Follower) Run(ctx context.Context) error {
	for {
		n, err := f.Step(ctx, 2000)
		if ctx.Err() != nil {
			return nil // stopped
		}
		if err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		pause := f.Every
		if pause <= 0 {
			pause = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
	}
}

// Step handles up to limit new changes; it returns how many it read.
func (f *Follower) Step(ctx context.Context, limit int) (int, error) {
	store := f.Engine.Store
	if since, err := store.Progress(ctx, rights.InService); err != nil || since == "" {
		// No national run yet: nothing to keep current; start from the log's end after it.
		if err == nil {
			err = store.SetProgress(ctx, FollowJob, "")
		}
		return 0, err
	}
	last, err := store.Progress(ctx, FollowJob)
	if err != nil {
		return 0, err
	}
	after, _ := strconv.ParseInt(last, 10, 64)
	if last == "" {
		end, err := f.Log.LastEventSeq(ctx)
		if err != nil {
			return 0, err
		}
		return 0, store.SetProgress(ctx, FollowJob, strconv.FormatInt(end, 10))
	}
	start := time.Now()
	settled, err := f.Log.SettledEventSeq(ctx)
	if err != nil || settled <= after {
		return 0, err
	}
	evs, err := f.Log.EventsAfter(ctx, after, limit)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	if i := slices.IndexFunc(evs, func(ev population.Event) bool { return ev.Seq > settled }); i >= 0 {
		evs = evs[:i]
	}
	if len(evs) == 0 {
		return 0, nil
	}
	persons, err := f.affected(ctx, evs)
	if err != nil {
		return 0, err
	}
	res, err := f.Engine.Persons(ctx, persons)
	if err != nil {
		return 0, err
	}
	if err := store.SetProgress(ctx, FollowJob, strconv.FormatInt(evs[len(evs)-1].Seq, 10)); err != nil {
		return 0, err
	}
	if f.Handled != nil {
		f.Handled(evs, res, time.Since(start))
	}
	return len(evs), nil
}

// affected lists the persons of relevant changes and the members of their households
// (the household as the change left it; for a birth, the mother's and father's too).
func (f *Follower) affected(ctx context.Context, evs []population.Event) ([]string, error) {
	seen := map[string]bool{}
	var persons, households []string
	add := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			persons = append(persons, p)
		}
	}
	for _, ev := range evs {
		if !slices.Contains(Relevant, ev.Type) {
			continue
		}
		add(ev.Person)
		if ev.After != nil {
			add(ev.After.Mother)
			add(ev.After.Father)
			if h := ev.After.Household; h != "" && !slices.Contains(households, h) {
				households = append(households, h)
			}
		}
	}
	bs, err := f.Roster.BriefsOf(ctx, persons)
	if err != nil {
		return nil, err
	}
	for _, b := range bs {
		if b.Household != "" && !slices.Contains(households, b.Household) {
			households = append(households, b.Household)
		}
	}
	members, err := f.Roster.HouseholdBriefs(ctx, households)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		add(m.Number)
	}
	slices.Sort(persons)
	return persons, nil
}
