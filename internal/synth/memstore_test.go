package synth

import (
	"context"
	"slices"
	"sync"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/population"
)

// memPop is an in-memory population.Store keeping everything in write order, which is
// what the determinism test compares. Only the bulk-loading methods are real.
type memPop struct {
	mu      sync.Mutex
	persons []population.Person
	events  []population.Event
	places  []population.Place
}

func (s *memPop) PutPersons(_ context.Context, ps []population.Person) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.persons = append(s.persons, ps...)
	return nil
}

func (s *memPop) PutEvents(_ context.Context, evs []population.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range evs {
		e.Seq = int64(len(s.events) + 1)
		s.events = append(s.events, e)
	}
	return nil
}

func (s *memPop) PutPlaces(_ context.Context, ps []population.Place) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.places = append(s.places, ps...)
	return nil
}

func (s *memPop) Record(context.Context, population.Event, func(*population.Person) error) (population.Event, error) {
	return population.Event{}, fault.Invalidf("", "not implemented")
}

func (s *memPop) Person(_ context.Context, number string) (population.Person, error) {
	for _, p := range s.persons {
		if p.Number == number {
			return p, nil
		}
	}
	return population.Person{}, fault.NotFoundf("no person %s", number)
}

func (s *memPop) PersonByBRN(_ context.Context, brn string) (population.Person, error) {
	for _, p := range s.persons {
		if p.BRN == brn {
			return p, nil
		}
	}
	return population.Person{}, fault.NotFoundf("no person %s", brn)
}

func (s *memPop) Persons(context.Context, population.Query) ([]population.Person, error) {
	return s.persons, nil
}

func (s *memPop) Events(_ context.Context, persons ...string) ([]population.Event, error) {
	var out []population.Event
	for _, e := range s.events {
		if slices.Contains(persons, e.Person) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *memPop) RecordCouple(context.Context, population.Event, string, func(p, other *population.Person) error) (population.Event, error) {
	return population.Event{}, fault.Invalidf("", "not implemented")
}

func (s *memPop) EventsAfter(_ context.Context, after int64, limit int) ([]population.Event, error) {
	var out []population.Event
	for _, e := range s.events {
		if e.Seq > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *memPop) LastEventSeq(context.Context) (int64, error)        { return int64(len(s.events)), nil }
func (s *memPop) SettledEventSeq(ctx context.Context) (int64, error) { return s.LastEventSeq(ctx) }

func (s *memPop) Places(context.Context) ([]population.Place, error) { return s.places, nil }

func (s *memPop) Count(context.Context) (int, int, error) {
	dead := 0
	for _, p := range s.persons {
		if !p.DeathDate.IsZero() {
			dead++
		}
	}
	return len(s.persons), dead, nil
}

// memDir is an in-memory directory.Store that checks what the SQL stores check:
// versions on create and overlapping periods on integration.
type memDir struct {
	mu      sync.Mutex
	records map[directory.Kind]map[string]directory.Record
	keys    map[directory.Kind][]string // sorted keys, rebuilt on listing after a create
	order   []directory.Record          // write order, for determinism
	lines   []directory.Integration
	periods map[string][]directory.Integration // person/institution/capacity → periods
}

func newMemDir() *memDir {
	return &memDir{records: map[directory.Kind]map[string]directory.Record{},
		keys: map[directory.Kind][]string{}, periods: map[string][]directory.Integration{}}
}

func (s *memDir) PutRecord(_ context.Context, actor string, r directory.Record, ifVersion int64) (directory.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.records[r.Kind]
	if m == nil {
		m = map[string]directory.Record{}
		s.records[r.Kind] = m
	}
	old, ok := m[r.Key]
	if ok && ifVersion == directory.MustCreate {
		return r, fault.Conflictf("key", "%s %s exists", r.Kind, r.Key)
	}
	if !ok {
		delete(s.keys, r.Kind)
	}
	r.Version, r.UpdatedBy = old.Version+1, actor
	m[r.Key] = r
	s.order = append(s.order, r)
	return r, nil
}

func (s *memDir) DeleteRecord(context.Context, string, directory.Kind, string) error {
	return fault.Invalidf("", "not implemented")
}

func (s *memDir) GetRecord(_ context.Context, kind directory.Kind, key string) (directory.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[kind][key]
	if !ok {
		return r, fault.NotFoundf("no %s %s", kind, key)
	}
	return r, nil
}

func (s *memDir) ListRecords(_ context.Context, kind directory.Kind, q directory.ListQuery) ([]directory.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys, ok := s.keys[kind]
	if !ok {
		for k := range s.records[kind] {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		s.keys[kind] = keys
	}
	i, found := slices.BinarySearch(keys, q.After)
	if found {
		i++
	}
	var out []directory.Record
	for _, k := range keys[i:] {
		if r := s.records[kind][k]; q.Owner == "" || r.Owner == q.Owner {
			out = append(out, r)
		}
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

func (s *memDir) History(context.Context, directory.HistoryQuery) ([]directory.Change, error) {
	return nil, nil
}

func (s *memDir) Integrate(_ context.Context, actor string, lines []directory.Line, mode directory.BatchMode) (directory.Report, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rep := directory.Report{Lines: make([]directory.LineResult, len(lines))}
	added := map[string]int{} // periods added by this batch, to undo on an atomic failure
	for i, l := range lines {
		k := l.Person + "/" + l.Institution + "/" + l.Capacity
		rep.Lines[i] = directory.LineResult{Line: i + 1, Status: directory.LineApplied}
		if slices.ContainsFunc(s.periods[k], l.Overlaps) {
			rep.Lines[i] = directory.LineResult{Line: i + 1, Status: directory.LineRejected, Field: "begin", Error: "overlaps"}
			rep.Rejected++
			continue
		}
		s.periods[k] = append(s.periods[k], l.Integration)
		added[k]++
		rep.Applied++
	}
	if rep.Rejected > 0 && mode == directory.Atomic {
		for k, n := range added {
			s.periods[k] = s.periods[k][:len(s.periods[k])-n]
		}
		rep.Applied = 0
		return rep, nil
	}
	for i, l := range lines {
		if rep.Lines[i].Status == directory.LineApplied {
			s.lines = append(s.lines, l.Integration)
		}
	}
	return rep, nil
}

func (s *memDir) Files(_ context.Context, person string, day date.Date) ([]directory.Integration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []directory.Integration
	for _, g := range s.lines {
		if g.Person == person && g.OpenOn(day) {
			out = append(out, g)
		}
	}
	return out, nil
}

func (s *memDir) Integrations(context.Context, directory.IntegrationQuery) ([]directory.Integration, error) {
	return s.lines, nil
}

func (s *memDir) EachIntegration(_ context.Context, fn func(directory.Integration) error) error {
	for _, g := range s.lines {
		if err := fn(g); err != nil {
			return err
		}
	}
	return nil
}

func (m *memDir) CreateRecords(ctx context.Context, actor string, rs []directory.Record) error {
	for _, r := range rs {
		if _, err := m.PutRecord(ctx, actor, r, directory.MustCreate); err != nil {
			return err
		}
	}
	return nil
}
