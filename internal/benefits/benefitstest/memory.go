package benefitstest

import (
	"context"
	"sync"

	"github.com/crossroads-hub/crossroads/internal/benefits"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Memory is a benefits.Store in memory, for the service's unit tests.
type Memory struct {
	mu  sync.Mutex
	all []benefits.Report
}

func (m *Memory) Append(ctx context.Context, r benefits.Report) (benefits.Report, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.all {
		if o.Institution == r.Institution && o.Reference == r.Reference && o.Version == r.Version {
			return benefits.Report{}, fault.Conflictf("version", "version %d of %q is stored already", r.Version, r.Reference)
		}
	}
	r.ID = int64(len(m.all) + 1)
	m.all = append(m.all, r)
	return r, nil
}

func (m *Memory) Versions(ctx context.Context, institution, reference string) ([]benefits.Report, error) {
	return m.filter(func(r benefits.Report) bool { return r.Institution == institution && r.Reference == reference }), nil
}

func (m *Memory) ByPerson(ctx context.Context, person string) ([]benefits.Report, error) {
	return m.filter(func(r benefits.Report) bool { return r.Person == person }), nil
}

func (m *Memory) filter(keep func(benefits.Report) bool) []benefits.Report {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []benefits.Report
	for _, r := range m.all {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}
