package audit_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/audit/audittest"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// memStore is an audit.Store in memory, and its own audittest.Tamperer.
type memStore struct {
	mu      sync.RWMutex
	records [][]byte // seq-1 → body
	hashes  []tlog.Hash
	persons map[string][]int64
	cps     []audit.StoredCheckpoint  // by size
	cos     map[string]audit.Cosigned // by witness
}

func newMemStore(*testing.T) (audit.Store, audittest.Tamperer) {
	s := &memStore{persons: map[string][]int64{}}
	return s, s
}

func (s *memStore) Append(_ context.Context, b audit.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b.First != int64(len(s.records))+1 || b.FirstHash() != int64(len(s.hashes)) {
		return fault.Conflictf("seq", "the log holds %d records; the batch starts at %d", len(s.records), b.First)
	}
	for _, r := range b.Records {
		s.records = append(s.records, slices.Clone(r))
	}
	s.hashes = append(s.hashes, b.Hashes...)
	for _, p := range b.Persons {
		s.persons[p.Person] = append(s.persons[p.Person], p.Seq)
	}
	return nil
}

func (s *memStore) Size(context.Context) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return int64(len(s.records)), nil
}

func (s *memStore) ReadHashes(_ context.Context, indexes []int64) ([]tlog.Hash, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(s.hashes)) {
			return nil, fault.NotFoundf("stored hash %d not found", x)
		}
		out[i] = s.hashes[x]
	}
	return out, nil
}

func (s *memStore) Records(_ context.Context, after int64, limit int) ([]audit.Entry, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []audit.Entry
	for seq := max(after+1, 1); seq <= int64(len(s.records)) && len(out) < limit; seq++ {
		out = append(out, audit.Entry{Seq: seq, Body: slices.Clone(s.records[seq-1])})
	}
	return out, nil
}

func (s *memStore) ByPerson(_ context.Context, person string, after int64, limit int) ([]audit.Entry, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []audit.Entry
	for _, seq := range s.persons[person] {
		if seq > after && len(out) < limit {
			out = append(out, audit.Entry{Seq: seq, Body: slices.Clone(s.records[seq-1])})
		}
	}
	return out, nil
}

func (s *memStore) SaveCheckpoint(_ context.Context, c audit.StoredCheckpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, found := slices.BinarySearchFunc(s.cps, c.Size, func(c audit.StoredCheckpoint, size int64) int { return int(c.Size - size) })
	if found {
		return fault.Conflictf("size", "a checkpoint of size %d exists", c.Size)
	}
	s.cps = slices.Insert(s.cps, i, c)
	return nil
}

func (s *memStore) Checkpoints(_ context.Context, after int64, limit int) ([]audit.StoredCheckpoint, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := sort.Search(len(s.cps), func(i int) bool { return s.cps[i].Size > after })
	return slices.Clone(s.cps[i:min(len(s.cps), i+limit)]), nil
}

func (s *memStore) LatestCheckpoint(context.Context) (audit.StoredCheckpoint, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.cps) == 0 {
		return audit.StoredCheckpoint{}, fault.NotFoundf("no checkpoint")
	}
	return s.cps[len(s.cps)-1], nil
}

func (s *memStore) SaveCosigned(_ context.Context, c audit.Cosigned) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.cos[c.Witness]; ok && old.Size >= c.Size {
		return false, nil
	}
	if s.cos == nil {
		s.cos = map[string]audit.Cosigned{}
	}
	s.cos[c.Witness] = c
	return true, nil
}

func (s *memStore) Cosigned(context.Context) ([]audit.Cosigned, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []audit.Cosigned{}
	for _, c := range s.cos {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b audit.Cosigned) int { return strings.Compare(a.Witness, b.Witness) })
	return out, nil
}

func (s *memStore) SetRecord(_ context.Context, seq int64, body []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[seq-1] = slices.Clone(body)
	return nil
}

func (s *memStore) SetHash(_ context.Context, index int64, h tlog.Hash) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hashes[index] = h
	return nil
}

func (s *memStore) SetCheckpoint(_ context.Context, size int64, note string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.cps {
		if s.cps[i].Size == size {
			s.cps[i].Note = note
		}
	}
	return nil
}

func (s *memStore) Truncate(_ context.Context, size int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = s.records[:size]
	s.hashes = s.hashes[:tlog.StoredHashIndex(0, size)]
	for p, seqs := range s.persons {
		s.persons[p] = slices.DeleteFunc(seqs, func(seq int64) bool { return seq > size })
	}
	s.cps = slices.DeleteFunc(s.cps, func(c audit.StoredCheckpoint) bool { return c.Size > size })
	return nil
}

// truncate drops the records from seq on and keeps the checkpoints, as a restored old
// backup of the records alone would.
func (s *memStore) truncate(seq int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = s.records[:seq-1]
	s.hashes = s.hashes[:tlog.StoredHashIndex(0, seq-1)]
}

func TestMemStore(t *testing.T) { audittest.Run(t, newMemStore) }
