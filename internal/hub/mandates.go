package hub

import (
	"context"
	"sync"

	"github.com/crossroads-hub/crossroads/internal/directory"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// mandateCache keeps, for the institutions that declared, what the mandate check needs
// of their directory record (their enterprise number and the employers that mandated
// them), so that an immediate declaration does not read and decode the record each
// time. It is exactly as current as the exchange policy:
//
//   - an institution written or deleted through this hub's directory empties it before
//     the administrator's request returns (Directory.OnChange, stack.changed): a revoked
//     mandate is refused by the next declaration;
//   - one written elsewhere (the CLI, another replica) empties it at the next refresh
//     (Config.RefreshEvery, 2 s), which finds the change in the directory's history: a
//     mandate revoked there is refused within that interval, as a revoked authorization
//     stops answering.
//
// A record read while the cache is emptied is not kept (the generation tells), so a
// read that raced with a revocation cannot put the old mandates back.
type mandateCache struct {
	dir *directory.Directory

	mu   sync.Mutex
	gen  uint64              // one more at each drop
	seen int64               // the institutions' history sequence the cache is current with
	m    map[string]declarer // institution code → its mandates
}

// newMandateCache returns an empty cache, current with the directory's history now.
func newMandateCache(ctx context.Context, dir *directory.Directory) (*mandateCache, error) {
	seq, err := directory.LastSeq(ctx, dir.Store(), directory.KindInstitution, 0)
	if err != nil {
		return nil, err
	}
	return &mandateCache{dir: dir, seen: seq, m: map[string]declarer{}}, nil
}

// check is employment.Mandates: may institution declare for employer? It may when it is
// the employer (its enterprise number) or the employer is among its mandates (a payroll
// office); anything else, an unknown institution included, is refused.
func (c *mandateCache) check(ctx context.Context, institution, employer string) error {
	c.mu.Lock()
	d, ok := c.m[institution]
	gen := c.gen
	c.mu.Unlock()
	if !ok {
		inst, _, err := directory.Get[directory.Institution](ctx, c.dir, institution)
		if err != nil { // an institution not found is not remembered: it is refused each time
			return mandateRefusal(institution, employer, err)
		}
		d = declarerOf(inst)
		c.mu.Lock()
		if c.gen == gen { // not emptied meanwhile: what was read is still current
			c.m[institution] = d
		}
		c.mu.Unlock()
	}
	return d.may(institution, employer)
}

// drop empties the cache.
func (c *mandateCache) drop() {
	c.mu.Lock()
	c.gen++
	clear(c.m)
	c.mu.Unlock()
}

// refresh empties the cache when the directory's history holds institution changes it
// has not seen (made by another process).
func (c *mandateCache) refresh(ctx context.Context) error {
	c.mu.Lock()
	seen := c.seen
	c.mu.Unlock()
	seq, err := directory.LastSeq(ctx, c.dir.Store(), directory.KindInstitution, seen)
	if err != nil || seq == seen {
		return err
	}
	c.mu.Lock()
	c.gen++
	clear(c.m)
	c.seen = max(c.seen, seq)
	c.mu.Unlock()
	return nil
}

// mandateRefusal is the answer when the declaring institution cannot be read.
func mandateRefusal(institution, employer string, err error) error {
	if fault.KindOf(err) == fault.NotFound {
		return fault.Forbiddenf("%s may not declare for %s", institution, employer)
	}
	return err
}

// declarer is what the mandate check needs of an institution's directory record.
type declarer struct {
	enterprise string
	mandates   map[string]bool // the employers that mandated it
}

func declarerOf(inst directory.Institution) declarer {
	d := declarer{enterprise: inst.Enterprise, mandates: make(map[string]bool, len(inst.Mandates))}
	for _, e := range inst.Mandates {
		d.mandates[e] = true
	}
	return d
}

func (d declarer) may(institution, employer string) error {
	if d.enterprise == employer || d.mandates[employer] {
		return nil
	}
	return fault.Forbiddenf("%s has no mandate to declare for %s", institution, employer)
}
