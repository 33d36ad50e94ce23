package directory

import (
	"slices"
	"strconv"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/date"
)

// Scope is the set of persons an institution holds a file on, in given capacities, on a
// day: all that a filter of that institution may see. It is a sorted list of person
// numbers as integers, so that a filter can start from it when it is the smaller side,
// and tell in a few steps whether a candidate of the register belongs to it.
type Scope struct {
	keys []uint64 // sorted, unique
}

type scopeKey struct {
	institution, capacities string
	day                     date.Date
}

// maxScopes bounds the scopes the index keeps.
const maxScopes = 64

// Scope returns the persons institution holds a file on, in one of capacities, on day.
// It costs one pass over the institution's files, then nothing until a file changes.
func (x *Index) Scope(institution string, capacities []string, day date.Date) *Scope {
	k := scopeKey{institution, strings.Join(capacities, "\x00"), day}
	x.mu.RLock()
	s, ok := x.scopes[k]
	x.mu.RUnlock()
	if ok {
		return s
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if s, ok := x.scopes[k]; ok {
		return s
	}
	s = x.scope(institution, capacities, day)
	if x.scopes == nil || len(x.scopes) >= maxScopes {
		x.scopes = map[scopeKey]*Scope{}
	}
	x.scopes[k] = s
	return s
}

// scope computes a Scope; the caller holds the lock.
func (x *Index) scope(institution string, capacities []string, day date.Date) *Scope {
	inst, ok := x.insts[institution]
	if !ok {
		return &Scope{}
	}
	caps := make([]uint16, 0, len(capacities))
	for _, c := range capacities {
		if id, ok := x.caps[c]; ok {
			caps = append(caps, id)
		}
	}
	var keys []uint64
	for _, pos := range x.byInst[inst] {
		f := x.slab[pos]
		if f.begin <= day && day <= f.end && slices.Contains(caps, f.capacity) {
			keys = append(keys, x.owner[pos])
		}
	}
	slices.Sort(keys)
	return &Scope{keys: slices.Compact(keys)}
}

// Len is the number of persons in the scope.
func (s *Scope) Len() int { return len(s.keys) }

// Contains reports whether person (11 digits) is in the scope.
func (s *Scope) Contains(person string) bool {
	k, ok := personKey(person)
	if !ok {
		return false
	}
	_, found := slices.BinarySearch(s.keys, k)
	return found
}

// ContainsKey reports whether the person whose 11-digit number is k is in the scope,
// without formatting the number: stores that keep numbers as integers ask this way.
func (s *Scope) ContainsKey(k uint64) bool {
	_, found := slices.BinarySearch(s.keys, k)
	return found
}

// Persons returns the person numbers of the scope in increasing order, from the first
// greater than after ("" for the start), at most limit of them.
func (s *Scope) Persons(after string, limit int) []string {
	i := 0
	if after != "" {
		k, _ := personKey(after)
		i, _ = slices.BinarySearch(s.keys, k+1)
	}
	out := make([]string, 0, min(limit, len(s.keys)-i))
	for ; i < len(s.keys) && len(out) < limit; i++ {
		out = append(out, pad11(s.keys[i]))
	}
	return out
}

// pad11 writes a person key as its 11-digit number.
func pad11(k uint64) string {
	b := make([]byte, 0, 11)
	d := strconv.AppendUint(nil, k, 10)
	for range 11 - len(d) {
		b = append(b, '0')
	}
	return string(append(b, d...))
}
