package sqlstore

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/employment"
)

// Whether the register holds a quarterly file's workers, and which have no registry
// change yet, is what the income events need of the register: a read of each worker's
// record. On SQLite that read is made beside the store's one writer, on the read pool,
// as the lines are written (workerLookup), rather than by the writer at the commit: it
// was the larger part of the writer's work on the incomes. It reads what the file's
// transaction would: the transaction took the write lock (BEGIN IMMEDIATE) before the
// first line was handed over, so no change to the register can be committed until it
// ends, and the transaction itself writes no person before the look-ups are done.

// worker is one worker looked up: in the register or not, marked as having registry
// changes or not.
type worker struct {
	key            int64
	held, unmarked bool
}

// workerLookup looks up, in its own goroutine, the workers of the lines written.
type workerLookup struct {
	db    *DB
	keys  chan []int64
	done  chan error
	found []worker // in the order looked up; sorted by result
}

func newWorkerLookup(ctx context.Context, db *DB) *workerLookup {
	l := &workerLookup{db: db, keys: make(chan []int64, 16), done: make(chan error, 1)}
	go func(keys <-chan []int64) { l.done <- l.run(ctx, keys) }(l.keys)
	return l
}

// add hands over the workers of lines written (in any order, repeats allowed).
func (l *workerLookup) add(ctx context.Context, lines []employment.WageLine) error {
	keys := make([]int64, len(lines))
	for i, w := range lines {
		keys[i] = w.PersonKey
	}
	select {
	case l.keys <- keys:
		return nil
	case err := <-l.done: // stopped early: its error
		l.done <- err
		if err == nil {
			err = context.Canceled
		}
		return mapErr(err, "store a quarterly file's incomes")
	case <-ctx.Done():
		return mapErr(ctx.Err(), "store a quarterly file's incomes")
	}
}

// result stops the look-ups and returns the workers, sorted, each once.
func (l *workerLookup) result() ([]worker, error) {
	if l.keys != nil {
		close(l.keys)
		l.keys = nil
	}
	err := <-l.done
	l.done <- err
	if err != nil {
		return nil, err
	}
	slices.SortFunc(l.found, func(a, b worker) int { return cmp.Compare(a.key, b.key) })
	l.found = slices.CompactFunc(l.found, func(a, b worker) bool { return a.key == b.key })
	return l.found, nil
}

// stop ends the goroutine, the look-ups not wanted.
func (l *workerLookup) stop() {
	if l.keys != nil {
		close(l.keys)
		l.keys = nil
	}
	err := <-l.done
	l.done <- err
}

func (l *workerLookup) run(ctx context.Context, keys <-chan []int64) error {
	var full *sql.Stmt // the look-up of incomesPerStatement workers
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	var failed error
	for keys := range keys {
		if failed != nil {
			continue // drained, so that add never blocks
		}
		slices.Sort(keys)
		keys = slices.Compact(keys)
		for len(keys) > 0 && failed == nil {
			chunk := keys[:min(len(keys), incomesPerStatement)]
			keys = keys[len(chunk):]
			if len(chunk) == incomesPerStatement && full == nil {
				if full, failed = l.db.r.PrepareContext(ctx, readWorkers(incomesPerStatement)); failed != nil {
					break
				}
			}
			failed = l.look(ctx, full, chunk)
		}
	}
	return failed
}

// lookWorkers reads whether n workers are in the register and have registry changes.
// The member is looked for as text (a quote in a string value is escaped, so the name
// followed by a colon is the member's), ten times cheaper than parsing every record.
func lookWorkers(n int) string {
	return `SELECT number, instr(doc, '"registry_changes":') = 0 FROM person WHERE number IN (?` + strings.Repeat(", ?", n-1) + `)`
}

// readWorkers reads the records of n workers, for look, which finds the member in Go:
// the text search of lookWorkers is the larger part of a look-up in SQLite's code, and
// bytes.Contains finds the same (a member's name, quoted, then a colon) several times
// faster.
func readWorkers(n int) string {
	return `SELECT number, doc FROM person WHERE number IN (?` + strings.Repeat(", ?", n-1) + `)`
}

// registryChanges is how the member starts in a person's record.
var registryChanges = []byte(`"registry_changes":`)

// look looks up chunk (sorted, each once), with full when it is of its size.
func (l *workerLookup) look(ctx context.Context, full *sql.Stmt, chunk []int64) error {
	args := make([]any, len(chunk))
	for i, k := range chunk {
		args[i] = k
	}
	var rows *sql.Rows
	var err error
	if len(chunk) == incomesPerStatement && full != nil {
		rows, err = full.QueryContext(ctx, args...)
	} else {
		rows, err = l.db.r.QueryContext(ctx, readWorkers(len(chunk)), args...)
	}
	if err != nil {
		return mapErr(err, "store a quarterly file's incomes")
	}
	defer rows.Close()
	start := len(l.found)
	for _, k := range chunk {
		l.found = append(l.found, worker{key: k})
	}
	got := l.found[start:]
	for rows.Next() {
		var n int64
		var doc sql.RawBytes
		if err := rows.Scan(&n, &doc); err != nil {
			return mapErr(err, "store a quarterly file's incomes")
		}
		if i, ok := slices.BinarySearchFunc(got, n, func(w worker, n int64) int { return cmp.Compare(w.key, n) }); ok {
			got[i].held, got[i].unmarked = true, !bytes.Contains(doc, registryChanges)
		}
	}
	return mapErr(rows.Err(), "store a quarterly file's incomes")
}
