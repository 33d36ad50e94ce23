package sqlstore

// WriterInUse is how many connections of the writer's pool are taken (one at most on
// SQLite): 1 while a write transaction, such as a batch, holds it.
func (db *DB) WriterInUse() int { return db.w.Stats().InUse }
