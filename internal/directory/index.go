package directory

import (
	"context"
	"slices"
	"sync"

	"github.com/crossroads-hub/crossroads/internal/date"
)

// Index is an in-memory copy of the person directory, for the decision that precedes
// every exchange: "does institution I have a file on person P, in one of these
// capacities, on day D?" must be answered in microseconds, millions of times a day.
//
// The store stays the truth. The Directory that owns an index updates it after each
// batch it applies; changes made by other processes (the CLI, another replica) are picked
// up by Refresh, which reloads when the store's history shows integration changes the
// index has not seen.
type Index struct {
	mu       sync.RWMutex
	heads    map[uint64]uint32 // person number → 1 + position in slab of the person's newest file
	slab     []file            // every file; no pointers, so the collector never scans it
	owner    []uint64          // the person of each file of slab, at the same position
	byInst   [][]uint32        // small institution id → positions in slab of its files
	insts    map[string]uint16 // institution code → small id
	names    []string          // small id → institution code
	caps     map[string]uint16
	capNames []string
	seen     int64 // history sequence up to which the index is current
	n        int

	// scopes caches the last scopes computed (a filter's world), dropped whenever a file
	// is added, ended or the index reloaded: filters of one institution come in runs.
	scopes map[scopeKey]*Scope
}

// file is one integration, packed in 16 bytes; next chains the files of one person.
type file struct {
	inst, capacity uint16
	begin, end     date.Date // end date.Max when open
	next           uint32    // 1 + position of the person's next file; 0 ends the chain
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{heads: map[uint64]uint32{}, insts: map[string]uint16{}, caps: map[string]uint16{}}
}

// Load fills the index from the store (replacing what it held) and records the history
// sequence it is current with.
func (x *Index) Load(ctx context.Context, s Store) error {
	seq, err := LastSeq(ctx, s, "integration", 0)
	if err != nil {
		return err
	}
	fresh := NewIndex()
	err = s.EachIntegration(ctx, func(g Integration) error {
		fresh.add(g)
		return nil
	})
	if err != nil {
		return err
	}
	x.mu.Lock()
	x.heads, x.slab, x.owner, x.byInst, x.insts, x.names, x.caps, x.capNames, x.n = fresh.heads, fresh.slab, fresh.owner, fresh.byInst, fresh.insts, fresh.names, fresh.caps, fresh.capNames, fresh.n
	x.scopes = nil
	x.seen = seq
	x.mu.Unlock()
	return nil
}

// Refresh reloads the index if the store's history holds integration changes newer
// than those it has seen; it reports whether it reloaded.
func (x *Index) Refresh(ctx context.Context, s Store) (bool, error) {
	x.mu.RLock()
	seen := x.seen
	x.mu.RUnlock()
	newer, err := s.History(ctx, HistoryQuery{Kind: "integration", After: seen, Limit: 1})
	if err != nil || len(newer) == 0 {
		return false, err
	}
	return true, x.Load(ctx, s)
}

// LastSeq returns the sequence of the newest history entry of kind after after (after
// itself when there is none): what a cache built now is current with.
func LastSeq(ctx context.Context, s Store, kind Kind, after int64) (int64, error) {
	last := after
	for {
		cs, err := s.History(ctx, HistoryQuery{Kind: kind, After: last, Limit: 1000})
		if err != nil {
			return 0, err
		}
		if len(cs) == 0 {
			return last, nil
		}
		last = cs[len(cs)-1].Seq
	}
}

// Len returns the number of integrations held.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.n
}

// Add inserts one integration (for building an index by hand, as tests do).
func (x *Index) Add(g Integration) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.add(g)
}

// add inserts one integration; the caller holds the write lock (or owns x alone).
func (x *Index) add(g Integration) {
	p, ok := personKey(g.Person)
	if !ok {
		return
	}
	inst := x.intern(g.Institution)
	x.slab = append(x.slab, file{inst: inst, capacity: x.internCap(g.Capacity), begin: g.Begin, end: endOr(g.End), next: x.heads[p]})
	x.owner = append(x.owner, p)
	x.byInst[inst] = append(x.byInst[inst], uint32(len(x.slab)-1))
	x.heads[p] = uint32(len(x.slab))
	x.n++
	x.scopes = nil
}

func (x *Index) intern(code string) uint16 {
	id, ok := x.insts[code]
	if !ok {
		id = uint16(len(x.names))
		x.insts[code] = id
		x.names = append(x.names, code)
		x.byInst = append(x.byInst, nil)
	}
	return id
}

func (x *Index) internCap(c string) uint16 {
	id, ok := x.caps[c]
	if !ok {
		id = uint16(len(x.capNames))
		x.caps[c] = id
		x.capNames = append(x.capNames, c)
	}
	return id
}

// apply brings the index up to date with the applied lines of a batch.
func (x *Index) apply(lines []Line, rep Report) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for i, l := range lines {
		if rep.Lines[i].Status != LineApplied {
			continue
		}
		if l.Action == ActionEnd {
			x.end(l)
			continue
		}
		x.add(l.Integration)
	}
}

func (x *Index) end(l Line) {
	p, ok := personKey(l.Person)
	inst, ok2 := x.insts[l.Institution]
	capID, ok3 := x.caps[l.Capacity]
	if !ok || !ok2 || !ok3 {
		return
	}
	for i := x.heads[p]; i != 0; i = x.slab[i-1].next {
		f := &x.slab[i-1]
		if f.inst == inst && f.capacity == capID && f.begin == l.Begin && f.end == date.Max {
			f.end = l.End
			x.scopes = nil
		}
	}
}

// Files returns the integrations of person open on day.
func (x *Index) Files(person string, day date.Date) []Integration {
	p, ok := personKey(person)
	if !ok {
		return nil
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []Integration
	for i := x.heads[p]; i != 0; i = x.slab[i-1].next {
		f := x.slab[i-1]
		if f.begin <= day && day <= f.end {
			g := Integration{Person: person, Institution: x.names[f.inst], Capacity: x.capNames[f.capacity], Begin: f.begin}
			if f.end != date.Max {
				g.End = f.end
			}
			out = append(out, g)
		}
	}
	return out
}

// Holds answers the decision's question without allocating: does institution hold a
// file on person on day in one of capacities? It returns the matching file.
func (x *Index) Holds(person, institution string, capacities []string, day date.Date) (Integration, bool) {
	p, ok := personKey(person)
	if !ok {
		return Integration{}, false
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	inst, ok := x.insts[institution]
	if !ok {
		return Integration{}, false
	}
	for i := x.heads[p]; i != 0; i = x.slab[i-1].next {
		f := x.slab[i-1]
		if f.inst != inst || f.begin > day || day > f.end {
			continue
		}
		c := x.capNames[f.capacity]
		if slices.Contains(capacities, c) {
			g := Integration{Person: person, Institution: institution, Capacity: c, Begin: f.begin}
			if f.end != date.Max {
				g.End = f.end
			}
			return g, true
		}
	}
	return Integration{}, false
}

// personKey turns an 11-digit wire-form person number into a map key.
func personKey(s string) (uint64, bool) {
	if len(s) != 11 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}
