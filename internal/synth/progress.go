package synth

import "sync"

// progress turns the writers' counts into one stage at a time for the caller's bar:
// "directory" while records are stored, then "persons" while the register is written,
// then "person directory" while integrations catch up. Stages never go back, because
// each count only grows and the records come first in the directory goroutine.
type progress struct {
	mu                    sync.Mutex
	fn                    func(stage string, done, total int)
	records, recordsTotal int
	persons, filed, total int
}

func newProgress(fn func(string, int, int), records, persons int) *progress {
	return &progress{fn: fn, recordsTotal: records, total: persons}
}

// update changes the counts under the lock and reports; calls never overlap.
func (p *progress) update(change func(*progress)) {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	change(p)
	switch {
	case p.records < p.recordsTotal:
		p.fn("directory", p.records, p.recordsTotal)
	case p.persons < p.total:
		p.fn("persons", p.persons, p.total)
	default:
		p.fn("person directory", p.filed, p.total)
	}
}

// done reports the end.
func (p *progress) done() {
	p.update(func(p *progress) { p.records, p.persons, p.filed = p.recordsTotal, p.total, p.total })
}
