package directory

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/fault"
)

// Directory is the reference directory: the Store plus the rules that keep it coherent
// (every record valid, every reference pointing at an existing record, no record deleted
// while others depend on it).
type Directory struct {
	store Store
	now   func() time.Time
	index *Index // nil until UseIndex
	// changed, when set, hears of every record this directory wrote or deleted, after
	// the store committed it: the hub reloads its policy at once, so a revoked
	// authorization stops answering before the administrator's request returns.
	changed func(ctx context.Context, kind Kind)

	instMu  sync.Mutex
	insts   map[string]bool // institution codes, for checking batch lines
	instSeq int64           // the history sequence insts is current with
}

// UseIndex makes the directory answer person-directory questions from x, and keep x
// current with the batches it applies.
func (d *Directory) UseIndex(x *Index) { d.index = x }

// OnChange sets the function told of every record written or deleted through d.
func (d *Directory) OnChange(fn func(ctx context.Context, kind Kind)) { d.changed = fn }

func (d *Directory) tell(ctx context.Context, kind Kind) {
	if d.changed != nil {
		d.changed(ctx, kind)
	}
}

// Index returns the in-memory index in use, or nil.
func (d *Directory) Index() *Index { return d.index }

// New returns a Directory over store; now is the clock (time.Now when nil).
func New(store Store, now func() time.Time) *Directory {
	if now == nil {
		now = time.Now
	}
	return &Directory{store: store, now: now}
}

// Store returns the underlying store.
func (d *Directory) Store() Store { return d.store }

// Today is the current date by the directory's clock.
func (d *Directory) Today() date.Date { return date.FromTime(d.now()) }

// EntityPtr constrains *T to the entity behaviour; packages outside use it to write
// generic code over every kind of record.
type EntityPtr[T Entity] interface {
	*T
	entity
}

// Put validates v, checks that the records it refers to exist, and stores it.
// ifVersion is AnyVersion, MustCreate, or the version read before (optimistic locking).
func Put[T Entity, P EntityPtr[T]](ctx context.Context, d *Directory, actor string, v T, ifVersion int64) (T, int64, error) {
	p := P(&v)
	if err := p.validate(); err != nil {
		return v, 0, err
	}
	for _, r := range p.refs() {
		if _, err := d.store.GetRecord(ctx, r.kind, r.key); err != nil {
			if fault.KindOf(err) == fault.NotFound {
				return v, 0, fault.Invalidf(r.field, "%s %q does not exist", r.kind, clip(r.key))
			}
			return v, 0, err
		}
	}
	doc, err := json.Marshal(v)
	if err != nil {
		return v, 0, fault.Wrap(err, "encode record")
	}
	rec, err := d.store.PutRecord(ctx, actor, Record{Kind: p.kind(), Key: p.key(), Owner: p.owner(), Doc: doc}, ifVersion)
	if err != nil {
		return v, 0, keyConflict(p.kind(), err)
	}
	d.tell(ctx, p.kind())
	return v, rec.Version, nil
}

// CreateAll validates and creates many records of one kind that must not exist yet, in
// one transaction (bulk loading: the employers of a nation). References are checked once
// per distinct key.
func CreateAll[T Entity, P EntityPtr[T]](ctx context.Context, d *Directory, actor string, vs []T) error {
	vs = slices.Clone(vs) // validation normalises records; the caller's stay as they are
	recs := make([]Record, len(vs))
	known := map[ref]bool{}
	for i := range vs {
		p := P(&vs[i])
		if err := p.validate(); err != nil {
			return fault.In("["+itoa(i)+"]", err)
		}
		for _, r := range p.refs() {
			k := ref{kind: r.kind, key: r.key}
			if !known[k] {
				if _, err := d.store.GetRecord(ctx, r.kind, r.key); err != nil {
					return fault.In("["+itoa(i)+"]", fault.Invalidf(r.field, "%s %q does not exist", r.kind, clip(r.key)))
				}
				known[k] = true
			}
		}
		doc, err := json.Marshal(vs[i])
		if err != nil {
			return fault.Wrap(err, "encode record")
		}
		recs[i] = Record{Kind: p.kind(), Key: p.key(), Owner: p.owner(), Doc: doc}
	}
	if err := d.store.CreateRecords(ctx, actor, recs); err != nil {
		return err
	}
	if len(recs) > 0 {
		d.tell(ctx, recs[0].Kind)
	}
	return nil
}

// Get returns the record of kind T with key.
func Get[T Entity, P EntityPtr[T]](ctx context.Context, d *Directory, key string) (T, int64, error) {
	var v T
	rec, err := d.store.GetRecord(ctx, P(&v).kind(), key)
	if err != nil {
		return v, 0, err
	}
	if err := json.Unmarshal(rec.Doc, &v); err != nil {
		return v, 0, fault.Wrap(err, "decode record")
	}
	return v, rec.Version, nil
}

// Page is one page of a listing; Next is the cursor of the next page, "" at the end.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// List returns one page of records of kind T in key order, keeping those keep accepts
// (nil keeps all). It reads on until the page is full or the records run out.
func List[T Entity, P EntityPtr[T]](ctx context.Context, d *Directory, q ListQuery, keep func(T) bool) (Page[T], error) {
	var zero T
	kind := P(&zero).kind()
	limit := clampLimit(q.Limit)
	page := Page[T]{Items: []T{}}
	for {
		q.Limit = limit + 1
		recs, err := d.store.ListRecords(ctx, kind, q)
		if err != nil {
			return page, err
		}
		for i, rec := range recs {
			if len(page.Items) == limit {
				page.Next = recs[i-1].Key
				return page, nil
			}
			var v T
			if err := json.Unmarshal(rec.Doc, &v); err != nil {
				return page, fault.Wrap(err, "decode record")
			}
			if keep == nil || keep(v) {
				page.Items = append(page.Items, v)
			}
			q.After = rec.Key
		}
		if len(recs) < q.Limit {
			return page, nil
		}
	}
}

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}

// Delete removes the record of kind T with key, refusing while other records depend on it.
func Delete[T Entity, P EntityPtr[T]](ctx context.Context, d *Directory, actor, key string) error {
	var zero T
	kind := P(&zero).kind()
	if kind == KindInstitution {
		for _, k := range []Kind{KindApplication, KindService, KindAuthorization, KindSubscription} {
			recs, err := d.store.ListRecords(ctx, k, ListQuery{Owner: key, Limit: 1})
			if err != nil {
				return err
			}
			if len(recs) > 0 {
				return fault.Conflictf("code", "institution %q still has %s records; delete them first", clip(key), k)
			}
		}
	}
	if kind == KindService {
		used, err := List[Authorization](ctx, d, ListQuery{Limit: 1}, func(a Authorization) bool { return a.Service == key })
		if err != nil {
			return err
		}
		if len(used.Items) > 0 {
			return fault.Conflictf("id", "service %q is used by authorization %q; delete it first", clip(key), used.Items[0].ID)
		}
	}
	if err := d.store.DeleteRecord(ctx, actor, kind, key); err != nil {
		return err
	}
	d.tell(ctx, kind)
	return nil
}

// KeyOf returns the key of a record (its code or id).
func KeyOf[T Entity, P EntityPtr[T]](v T) string { return P(&v).key() }

// KindOf returns the kind of record T.
func KindOf[T Entity, P EntityPtr[T]]() Kind {
	var v T
	return P(&v).kind()
}

// keyConflict names the record's own key field (code or id) in a conflict on its key.
func keyConflict(kind Kind, err error) error {
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != fault.Conflict {
		return err
	}
	c := *fe
	c.Field = "id"
	if kind == KindInstitution {
		c.Field = "code"
	}
	return &c
}
