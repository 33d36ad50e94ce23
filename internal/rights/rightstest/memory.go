package rightstest

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/ident"
	"github.com/crossroads-hub/crossroads/internal/rights"
)

// Memory is a rights.Store in memory, for the engine's unit tests; it passes the
// contract suite like the SQL stores.
type Memory struct {
	mu       sync.Mutex
	ds       []rights.Decision
	progress map[string]string
}

var _ rights.Store = (*Memory)(nil)

func (m *Memory) Current(ctx context.Context, persons []string) ([]rights.Decision, error) {
	if len(persons) > rights.MaxPersons {
		return nil, fault.Invalidf("persons", "too many")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	last := map[[2]string]rights.Decision{}
	for _, d := range m.ds {
		if slices.Contains(persons, d.Person) {
			d.Facts = nil
			last[[2]string{d.Person, d.Right}] = d
		}
	}
	out := make([]rights.Decision, 0, len(last))
	for _, d := range last {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b rights.Decision) int {
		if c := strings.Compare(a.Person, b.Person); c != 0 {
			return c
		}
		return strings.Compare(a.Right, b.Right)
	})
	return out, nil
}

func (m *Memory) HeldBetween(ctx context.Context, first, last string) ([]rights.Held, error) {
	m.mu.Lock()
	var persons []string
	for _, d := range m.ds {
		if d.Person >= first && d.Person <= last && !slices.Contains(persons, d.Person) {
			persons = append(persons, d.Person)
		}
	}
	m.mu.Unlock()
	slices.Sort(persons)
	var out []rights.Held
	for chunk := range slices.Chunk(persons, rights.MaxPersons) {
		cur, err := m.Current(ctx, chunk)
		if err != nil {
			return nil, err
		}
		for _, d := range cur {
			if d.Holds() {
				out = append(out, rights.Held{Person: d.Person, Right: d.Right})
			}
		}
	}
	return out, nil
}

func (m *Memory) Save(ctx context.Context, ds []rights.Decision, mark rights.Mark) error {
	for _, d := range ds {
		if !ident.ValidPerson(d.Person) {
			return fault.Invalidf("person", "%q is not a person number", d.Person)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range ds {
		ds[i].ID = int64(len(m.ds) + 1)
		m.ds = append(m.ds, ds[i])
	}
	if mark.Job != "" {
		if m.progress == nil {
			m.progress = map[string]string{}
		}
		m.progress[mark.Job] = mark.Last
	}
	return nil
}

func (m *Memory) History(ctx context.Context, person string) ([]rights.Decision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []rights.Decision
	for _, d := range m.ds {
		if d.Person == person {
			out = append(out, d)
		}
	}
	return out, nil
}

func (m *Memory) Progress(ctx context.Context, job string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.progress[job], nil
}

func (m *Memory) SetProgress(ctx context.Context, job, last string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.progress == nil {
		m.progress = map[string]string{}
	}
	if last == "" {
		delete(m.progress, job)
	} else {
		m.progress[job] = last
	}
	return nil
}

func (m *Memory) Counts(ctx context.Context) ([]rights.Count, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	last := map[[2]string]rights.Decision{}
	for _, d := range m.ds {
		last[[2]string{d.Person, d.Right}] = d
	}
	n := map[rights.Count]int{}
	for _, d := range last {
		if d.Holds() {
			n[rights.Count{Right: d.Right, Group: d.Group}]++
		}
	}
	var out []rights.Count
	for c, k := range n {
		c.Persons = k
		out = append(out, c)
	}
	return out, nil
}
