package audit

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/crossroads-hub/crossroads/internal/fault"
)

// storeTimeout bounds one batch or one checkpoint, so that a hung database fails the
// batch (and its exchanges) instead of stopping the writer for good.
const storeTimeout = 30 * time.Second

// Config tunes a Log; the zero value is the default.
type Config struct {
	CheckpointEvery time.Duration    // how often to sign a checkpoint; default 2s
	MaxBatch        int              // records per transaction at most; default 512
	Now             func() time.Time // stamps records without a time, and checkpoints; default time.Now
	Log             *slog.Logger     // failed checkpoints and batches; default discards

	// Journal is a folder on local disk for the log's journal; empty: none, and a record
	// is acknowledged once its batch has committed in the store. See doc.go.
	Journal string

	// Durability is what a record acknowledged through the journal survives: the crash
	// of the process (the default: written to the operating system), or the loss of
	// power (synced to the disk before it is acknowledged). Without a journal it is the
	// store's.
	Durability Durability

	// Witnesses are the verifier keys of the witnesses whose cosignatures the log takes
	// (AddCosignature); none: it takes none.
	Witnesses []string

	// Published is a file outside the store where the log remembers the largest
	// checkpoint it signed, and beside it (CosignedPath) the latest each witness
	// cosigned; empty: none. Open refuses a store shorter than those checkpoints or not
	// consistent with them. See published.go.
	Published string
}

// Durability is what an acknowledged record survives; see Config.Durability.
type Durability int

const (
	ProcessCrash Durability = iota // the default
	PowerLoss
)

// ParseDurability reads the names of the hub's --durability: "process" or "power".
func ParseDurability(s string) (Durability, error) {
	switch s {
	case "", "process":
		return ProcessCrash, nil
	case "power":
		return PowerLoss, nil
	}
	return 0, fault.Invalidf("durability", "must be process (safe from a crash of the process) or power (safe from a loss of power), not %q", s)
}

func (d Durability) String() string {
	if d == PowerLoss {
		return "power"
	}
	return "process"
}

// Log is the audit log. Open starts it; Close stops it. It is safe for concurrent use.
type Log struct {
	store     Store
	sign      SignerFunc
	now       func() time.Time
	published string // Config.Published

	witnesses note.Verifiers // Config.Witnesses; nil: none
	log       *slog.Logger
	max       int

	mu      sync.RWMutex // guards closed and the sends on in, so Close can close in
	closed  bool
	in      chan *request
	pending atomic.Int64 // requests announced by Append and not yet answered by the writer
	coming  atomic.Int64 // records announced by Expect whose exchange is not over

	head atomic.Pointer[treeHead] // the stored tree, published after each batch stored

	cpMu   sync.Mutex
	latest Checkpoint  // the latest saved checkpoint; Size 0 when there is none
	keys   []KeyPeriod // the keys that signed the checkpoints (keyhistory.go)

	stop       context.CancelFunc
	writerDone chan struct{}
	cpDone     chan struct{}

	// With a journal: the records acknowledged and not yet stored.
	j         *journal
	q         queue
	acked     atomic.Int64 // the last seq acknowledged
	next      int64        // the seq of the next record; owned by the writer goroutine
	flushStop chan struct{}
	flushDone chan struct{}

	// Owned by the goroutine that stores batches: the writer, or with a journal the
	// flusher.
	size  int64
	front frontier
	stale bool // a batch failed: re-read size and frontier before the next
	batch Batch
	recs  []pending

	last int // the size of the writer's last batch; owned by the writer goroutine
}

type treeHead struct {
	size int64
	root tlog.Hash
}

// request is one Append waiting for its batch to commit.
type request struct {
	rec  pending
	seq  int64
	err  error
	done chan struct{} // capacity 1, so the writer never blocks on an abandoned request
}

var requests = sync.Pool{New: func() any { return &request{done: make(chan struct{}, 1)} }}

// Open reads the log's size and tree from store, checks them against the latest
// checkpoint, signs a checkpoint if records came after it, and starts the writer and
// the checkpointer, which run until Close. It fails when sign gives no signer, when the
// store is unreachable, and when the stored tree does not extend the latest checkpoint
// (records lost or rewritten). ctx bounds Open only.
func Open(ctx context.Context, store Store, sign SignerFunc, cfg Config) (*Log, error) {
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = 2 * time.Second
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 512
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if _, err := sign(); err != nil {
		return nil, fault.Wrap(err, "get the audit checkpoint signer")
	}
	witnesses, err := witnessVerifiers(cfg.Witnesses)
	if err != nil {
		return nil, fault.Invalidf("witnesses", "%v", err)
	}
	l := &Log{
		store: store, sign: sign, now: cfg.Now, log: cfg.Log, max: cfg.MaxBatch, published: cfg.Published,
		witnesses:  witnesses,
		in:         make(chan *request, cfg.MaxBatch),
		writerDone: make(chan struct{}),
		cpDone:     make(chan struct{}),
	}
	if err := l.reload(ctx); err != nil {
		return nil, err
	}
	if err := l.loadLatest(ctx); err != nil {
		return nil, err
	}
	if err := l.loadKeys(ctx); err != nil {
		return nil, fault.Wrap(err, "read the audit log's key history")
	}
	if cfg.Journal != "" {
		if err := l.startJournal(ctx, cfg.Journal, cfg.Durability); err != nil {
			return nil, err
		}
	}
	if err := l.openPublished(ctx); err != nil {
		if l.j != nil {
			l.j.close()
		}
		return nil, err
	}
	// Records committed after the last checkpoint (a crash, a failed final checkpoint)
	// get theirs now.
	if _, err := l.checkpoint(ctx); err != nil && fault.KindOf(err) != fault.NotFound {
		if l.j != nil {
			l.j.close()
		}
		return nil, err
	}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	l.stop = stop
	go l.write(bg)
	if l.j != nil {
		go l.flushes(bg)
	}
	go l.checkpoints(bg, cfg.CheckpointEvery)
	return l, nil
}

// reload reads the size and the frontier of the tree from the store.
func (l *Log) reload(ctx context.Context) error {
	size, err := l.store.Size(ctx)
	if err != nil {
		return fault.Unavailablef(err, "read the audit log's size")
	}
	if err := l.front.load(size, storeHashes{ctx, l.store}); err != nil {
		return fault.Unavailablef(err, "read the audit log's tree")
	}
	root, err := tlog.TreeHash(size, &l.front)
	if err != nil {
		return fault.Wrap(err, "hash the audit log's tree")
	}
	l.size, l.stale = size, false
	l.head.Store(&treeHead{size: size, root: root})
	return nil
}

// loadLatest reads the latest checkpoint and refuses a store whose tree does not extend
// it: records lost or rewritten since it was signed.
func (l *Log) loadLatest(ctx context.Context) error {
	sc, err := l.store.LatestCheckpoint(ctx)
	if fault.KindOf(err) == fault.NotFound {
		return nil
	}
	if err != nil {
		return fault.Unavailablef(err, "read the latest audit checkpoint")
	}
	size, root, err := treeText(sc.Note)
	if err != nil || size != sc.Size {
		return fault.Wrap(fmt.Errorf("checkpoint at size %d: cannot be read", sc.Size), "open the audit log")
	}
	if size > l.size {
		return fault.Wrap(fmt.Errorf("the log holds %d records, fewer than its checkpoint at size %d", l.size, size), "open the audit log")
	}
	got, err := tlog.TreeHash(size, storeHashes{ctx, l.store})
	if err != nil {
		return fault.Unavailablef(err, "read the audit log's tree")
	}
	if got != root {
		return fault.Wrap(fmt.Errorf("checkpoint at size %d: root hash differs from the stored tree", size), "open the audit log")
	}
	l.latest = Checkpoint{Size: size, Root: root, Note: sc.Note, Time: sc.Created}
	return nil
}

// openPublished compares the store, journal recovered, with the checkpoints remembered
// outside it (published, and cosigned by witnesses, which it keeps in the store); a log that
// has none remembered yet (a version before the file) starts remembering its latest
// checkpoint.
func (l *Log) openPublished(ctx context.Context) error {
	if l.published == "" {
		return nil
	}
	cs, err := checkPublished(ctx, l.store, l.published)
	if err != nil {
		return fault.Wrap(err, "open the audit log")
	}
	// The store keeps them too, for every replica to serve: a store from before it
	// did (or restored without them) gets them back.
	for _, c := range cs {
		if _, err := l.store.SaveCosigned(ctx, c); err != nil {
			return fault.Unavailablef(err, "keep the cosigned audit checkpoints")
		}
	}
	if _, ok, _ := ReadPublished(l.published); !ok && l.latest.Size > 0 {
		if err := writePublished(l.published, l.latest.Note); err != nil {
			return fault.Wrap(err, "remember the latest audit checkpoint")
		}
	}
	return nil
}

// Append records r and returns its seq once it is committed (to the journal, if the log
// has one, else to the store). An error means the record is not acknowledged and the
// caller must refuse the exchange. Append fills in Seq, Binding, and Time when it is
// zero.
//
// If ctx ends while the batch commits, Append returns an error although the record may
// still be committed: the log errs towards recording an exchange that was refused,
// never towards an exchange that was not recorded.
func (l *Log) Append(ctx context.Context, r Record) (int64, error) {
	rec, err := prepare(r, l.now)
	if err != nil {
		return 0, err
	}
	body, err := encodeSeqless(&rec)
	if err != nil {
		return 0, err
	}
	req := requests.Get().(*request)
	req.rec.body = body
	req.rec.persons = distinct(req.rec.persons, rec.Persons)
	l.pending.Add(1)
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		l.pending.Add(-1)
		requests.Put(req)
		return 0, fault.Unavailablef(nil, "the audit log is closed")
	}
	select {
	case l.in <- req:
		l.mu.RUnlock()
	case <-ctx.Done():
		l.mu.RUnlock()
		l.pending.Add(-1)
		requests.Put(req)
		return 0, fault.Unavailablef(ctx.Err(), "the audit log is too busy")
	}
	select {
	case <-req.done:
		seq, err := req.seq, req.err
		*req = request{rec: pending{persons: req.rec.persons[:0]}, done: req.done}
		requests.Put(req)
		return seq, err
	case <-ctx.Done():
		return 0, fault.Unavailablef(ctx.Err(), "gave up waiting for the audit log")
	}
}

// Close stops taking records, waits for the writer to commit those it has and for the
// journal's records to be stored, stops the checkpointer and signs a last checkpoint.
// It is safe to call twice.
func (l *Log) Close(ctx context.Context) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.in)
	l.mu.Unlock()
	defer l.stop()
	if err := wait(ctx, l.writerDone); err != nil {
		return err
	}
	var jerr error
	if l.j != nil {
		jerr = l.closeJournal(ctx)
	}
	l.stop()
	if err := wait(ctx, l.cpDone); err != nil {
		return err
	}
	if _, err := l.checkpoint(ctx); err != nil && fault.KindOf(err) != fault.NotFound {
		return err
	}
	return jerr
}

func wait(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fault.Unavailablef(ctx.Err(), "the audit log did not stop in time")
	}
}

// Expect announces n records that exchanges under way will append: while they are
// coming, the writer waits for them (at most gatherWait) rather than commit smaller
// batches, each with its own commit. Call the returned function once, when the exchanges
// are over (appended or not).
func (l *Log) Expect(n int) (done func()) {
	l.coming.Add(int64(n))
	return func() { l.coming.Add(-int64(n)) }
}

// Pending returns the number of Appends waiting for their record to be committed, a
// gauge of the load on the writer.
func (l *Log) Pending() int64 { return l.pending.Load() }

// Size returns the number of records acknowledged, which is also the last seq. With a
// journal, those of the last few milliseconds may not be stored yet.
func (l *Log) Size() int64 {
	if l.j != nil {
		return l.acked.Load()
	}
	return l.head.Load().size
}

// Checkpoint returns the latest signed checkpoint, signing one if there is none yet;
// on a SharedStore, the latest any replica saved.
// It is a NotFound fault while the log is empty.
func (l *Log) Checkpoint(ctx context.Context) (Checkpoint, error) {
	l.cpMu.Lock()
	cp := l.latest
	l.cpMu.Unlock()
	if _, shared := l.store.(SharedStore); shared {
		// Replicas sign in turn: the latest is the store's, which another may have
		// signed, so that every replica serves the same one (a witness following the
		// log through a load balancer never sees it step back). A store that cannot
		// answer leaves this replica's own.
		if sc, err := l.store.LatestCheckpoint(ctx); err == nil && sc.Size > cp.Size {
			if size, root, err := treeText(sc.Note); err == nil && size == sc.Size {
				cp = Checkpoint{Size: size, Root: root, Note: sc.Note, Time: sc.Created}
			}
		}
	}
	if cp.Size > 0 {
		return cp, nil
	}
	return l.CheckpointNow(ctx)
}

// CheckpointNow signs a checkpoint covering every record acknowledged before the call,
// unless the latest one already does, and returns it.
func (l *Log) CheckpointNow(ctx context.Context) (Checkpoint, error) {
	if err := l.sync(ctx); err != nil {
		return Checkpoint{}, err
	}
	return l.checkpoint(ctx)
}

// Messages calls fn with the client and message id of the records appended since the
// time given, newest first, reading the log backwards from its end, a chunk at a time,
// until a record is older than since, and at most the last most records; messageID is
// "" for a record without one. It reads those members of each record only: a hub
// restarting after a busy few minutes reads a million records.
func (l *Log) Messages(ctx context.Context, since time.Time, most int64, fn func(client, messageID string)) error {
	const chunk = 1000
	if err := l.sync(ctx); err != nil {
		return err
	}
	size := l.head.Load().size
	floor := max(0, size-most)
	for end := size; end > floor; end -= chunk {
		from := max(end-chunk, floor)
		entries, err := l.store.Records(ctx, from, int(end-from))
		if err != nil {
			return err
		}
		for k := len(entries) - 1; k >= 0; k-- {
			t, client, id, err := messageOf(entries[k].Body)
			if err != nil {
				return fault.Wrap(fmt.Errorf("record %d: %v", entries[k].Seq, err), "read the audit log")
			}
			if t.Before(since) {
				return nil
			}
			fn(client, id)
		}
	}
	return nil
}

// ByPerson answers "who consulted my data": the records concerning person with
// seq > after, at most limit, oldest first, from the person index.
func (l *Log) ByPerson(ctx context.Context, person string, after int64, limit int) ([]Record, error) {
	if err := l.sync(ctx); err != nil {
		return nil, err
	}
	entries, err := l.store.ByPerson(ctx, person, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(entries))
	for _, e := range entries {
		r, err := decode(e.Body)
		if err != nil {
			return nil, fault.Wrap(fmt.Errorf("record %d: %v", e.Seq, err), "read the audit log")
		}
		out = append(out, r)
	}
	return out, nil
}

// distinct appends to dst the persons of list, each once: by scanning a short list, by
// a set a long one (a batch chunk names a thousand).
func distinct(dst, list []string) []string {
	if len(list) <= 16 {
		for i, p := range list {
			if !slices.Contains(list[:i], p) {
				dst = append(dst, p)
			}
		}
		return dst
	}
	seen := make(map[string]struct{}, len(list))
	for _, p := range list {
		if _, ok := seen[p]; !ok {
			seen[p] = struct{}{}
			dst = append(dst, p)
		}
	}
	return dst
}
