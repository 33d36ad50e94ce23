package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// The audit log's dictionary (table audit_names): the texts that repeat from record to
// record (clients, institutions, services, purposes, fields, reasons, authorizations,
// outcomes) stored once, each record holding their numbers (audit.Compact). Names are
// added in the batch's transaction (under the log's lock on PostgreSQL, where replicas
// share it) and never change, so a number read once stays true.
const (
	// maxAuditNames bounds the table: past it, new texts are written out in the records.
	maxAuditNames = 1 << 20
	// auditNamesCached bounds each of the two in-memory maps; past it a map starts over
	// (the texts in use come back at once, from the table).
	auditNamesCached = 1 << 16
)

// auditNames is the dictionary's memory: numbers by text and texts by number, bounded.
type auditNames struct {
	mu    sync.RWMutex
	ids   map[string]uint64
	texts map[uint64]string
}

// Len returns how many entries the memory holds, both maps together: the metric
// crossroads_audit_names_cached.
func (n *auditNames) Len() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.ids) + len(n.texts)
}

func (n *auditNames) cachedID(s []byte) (uint64, bool) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	id, ok := n.ids[string(s)]
	return id, ok
}

func (n *auditNames) cachedText(id uint64) (string, bool) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	s, ok := n.texts[id]
	return s, ok
}

// remember keeps a committed name.
func (n *auditNames) remember(id uint64, s string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ids == nil || len(n.ids) >= auditNamesCached {
		n.ids = make(map[string]uint64)
	}
	if n.texts == nil || len(n.texts) >= auditNamesCached {
		n.texts = make(map[uint64]string)
	}
	n.ids[s], n.texts[id] = id, s
}

// forget drops the memory, after the table changed under it (a migration).
func (n *auditNames) forget() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ids, n.texts = nil, nil
}

// textOf returns the dictionary's reader on the pool r: from memory, else the table.
func (n *auditNames) textOf(ctx context.Context, r *sql.DB, q func(string) string) audit.NameOf {
	return func(id uint64) (string, error) {
		if s, ok := n.cachedText(id); ok {
			return s, nil
		}
		var s string
		err := r.QueryRowContext(ctx, q(`SELECT name FROM audit_names WHERE id = ?`), int64(id)).Scan(&s)
		if errors.Is(err, sql.ErrNoRows) {
			return "", fault.NotFoundf("the audit log's dictionary has no text %d", id)
		}
		if err != nil {
			return "", mapErr(err, "read the audit log's dictionary")
		}
		n.remember(id, s)
		return s, nil
	}
}

// auditPacker packs the records of one batch in its transaction, adding the texts the
// dictionary lacks; they are remembered once the batch commits (done).
type auditPacker struct {
	ctx   context.Context
	tx    *sql.Tx
	q     func(string) string
	names *auditNames
	next  uint64            // the next free number, 0 until read
	added map[string]uint64 // texts this batch added
	err   error             // the first failure: the batch fails with it
}

func newAuditPacker(ctx context.Context, tx *sql.Tx, q func(string) string, names *auditNames) *auditPacker {
	return &auditPacker{ctx: ctx, tx: tx, q: q, names: names}
}

// pack returns the stored form of records, seqs first, first+1, …: compact, or the
// canonical bytes when audit.Compact cannot rebuild them.
func (p *auditPacker) pack(first int64, records [][]byte) ([][]byte, error) {
	out := make([][]byte, len(records))
	buf := make([]byte, 0, 192*len(records))
	for i, rec := range records {
		start := len(buf)
		var ok bool
		if buf, ok = audit.Compact(buf, first+int64(i), rec, p.id); ok {
			out[i] = buf[start:len(buf):len(buf)]
		} else {
			out[i] = rec
		}
		if p.err != nil {
			return nil, mapErr(p.err, "add to the audit log's dictionary")
		}
	}
	return out, nil
}

// id is the audit.Namer of the batch.
func (p *auditPacker) id(b []byte) (uint64, bool) {
	if p.err != nil {
		return 0, false
	}
	if id, ok := p.names.cachedID(b); ok {
		return id, true
	}
	if id, ok := p.added[string(b)]; ok {
		return id, true
	}
	s := string(b)
	var id int64
	err := p.tx.QueryRowContext(p.ctx, p.q(`SELECT id FROM audit_names WHERE name = ?`), s).Scan(&id)
	if err == nil { // committed before this batch (its own additions are in added)
		p.names.remember(uint64(id), s)
		return uint64(id), true
	}
	if !errors.Is(err, sql.ErrNoRows) {
		p.err = err
		return 0, false
	}
	if p.next == 0 {
		if err := p.tx.QueryRowContext(p.ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM audit_names`).Scan(&id); err != nil {
			p.err = err
			return 0, false
		}
		p.next = uint64(id)
	}
	if p.next > maxAuditNames {
		return 0, false
	}
	if _, err := p.tx.ExecContext(p.ctx, p.q(`INSERT INTO audit_names (id, name) VALUES (?, ?)`), int64(p.next), s); err != nil {
		p.err = err
		return 0, false
	}
	if p.added == nil {
		p.added = make(map[string]uint64)
	}
	p.added[s] = p.next
	p.next++
	return p.next - 1, true
}

// done remembers the texts the batch added, once it has committed.
func (p *auditPacker) done() {
	for s, id := range p.added {
		p.names.remember(id, s)
	}
}

// AuditNamesCached returns the entries the audit log's dictionary holds in memory and
// the most it may hold: the gauge crossroads_audit_names_cached.
func (db *DB) AuditNamesCached() (n, most int) { return db.auditNames.Len(), 2 * auditNamesCached }
