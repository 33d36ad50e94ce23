// Package audit is the hub's tamper-evident log of every exchange.
//
// Every exchange, permitted or denied, appends one Record: who asked (client,
// institution), what (service, purpose, fields), about whom (persons), the decision and
// its reasons, the outcome, the latency, and the SHA-256 hashes of the request and of
// the response with a hash binding the two. Payloads are never stored.
//
// Records form a Merkle tree (golang.org/x/mod/sumdb/tlog, the transparency-log layout
// of the Go checksum database): record seq n is leaf n-1, its canonical JSON encoding is
// hashed with tlog.RecordHash, and the tree's stored hashes are kept beside the records
// in the hub's store. Every CheckpointEvery (and on Close) the log signs a checkpoint,
// the tree size and root hash as a note (golang.org/x/mod/sumdb/note) signed with the
// hub's Ed25519 key. From a checkpoint and an inclusion proof, anyone holding the hub's
// verifier key can check offline that a record is in the log (VerifyEvidence); Verify
// recomputes the whole tree from the stored records and names the first record or
// checkpoint that does not match.
//
// # Wiring
//
// The hub opens the log on its store (sqlstore's db.Audit()) with a SignerFunc that
// wraps its current key (oauth's KeySet.Current, through NewSigner), publishes
// VerifierKey(name, key.Public()) for every key it signs with, keeping the old ones
// after a rotation, and closes the log after the HTTP server has stopped, so that the
// last records get their checkpoint.
//
// # Fail closed and durable
//
// Append returns only after the record is committed, and returns an error when it
// could not be committed; the caller then refuses the exchange. A record acknowledged
// to a caller therefore survives a crash of the process.
//
// Committing each record alone would cap the log at a few thousand records per second,
// so the log uses group commit: Append encodes its record and hands it to one writer
// goroutine, which gathers the records waiting (up to MaxBatch, waiting at most 2ms for
// callers it knows are on their way) and commits them together. Only after that commit
// are the callers of the batch acknowledged; if it fails, every caller of the batch
// gets the error and nothing of the batch is acknowledged. Batches grow with the number
// of concurrent callers, and a lone caller is not kept waiting.
//
// Without a journal (Config.Journal empty; the hub on PostgreSQL), the writer assigns
// consecutive seqs, computes their tree hashes, and stores records, hashes and person
// index rows in one transaction of the store: the commit is the store's (on PostgreSQL
// the commit record is flushed before COMMIT returns).
//
// With a journal (the hub on SQLite), the writer's commit is one write of the batch to
// a file of the journal folder on local disk. With Durability ProcessCrash (the
// default, like SQLite's WAL at synchronous=NORMAL) the write survives a crash of the
// process, not a loss of power; with PowerLoss each write is synced to the disk before
// its records are acknowledged (the hub then opens SQLite at synchronous=FULL, so that
// the records the flusher stored survive too). Every frame carries checksums of its
// header and its payload: only an incomplete frame at the very end of the journal is a
// torn write, whose records were never acknowledged; any other damage stops Open with
// a *JournalDamage (journal.go). A second goroutine, the flusher, moves the journaled
// records into the store a few milliseconds later, every record acknowledged meanwhile
// in one transaction, and removes the journal's files once their records are stored.
// On SQLite a transaction costs as much as a few dozen records (the WAL frames of
// every page it touches, their index, the locks), and exchanges waited for it: the
// journal took the exchanges per second through the hub from about 0.71 to 0.78 of a
// bare reverse proxy's (see the README's figures). While the store refuses the
// flusher's batches, the log refuses new records (fail closed) and the flusher retries;
// the records acknowledged stay in the journal. Open stores what the journal holds
// after the store's last record (a crash, a store that failed until Close) before
// anything else, and refuses a journal that does not continue the store: records
// acknowledged and lost. The log's reads (ByPerson, Evidence, Messages, CheckpointNow)
// first wait for the records acknowledged before them to be stored, so a caller reads
// its own records; Size, the checkpoints and the store itself lag the acknowledged
// records by those few milliseconds. The journal folder is locked (flock) while a log
// uses it.
//
// After a failed batch the log re-reads its size and tree from the store before the
// next batch, so it recovers as soon as the store does. A batch whose commit outcome is
// unknown (a connection lost during COMMIT) may have been stored although its callers
// were told it failed; the log never acknowledges a record it has not committed.
//
// # Evidence against the operator
//
// Consistency (and ProveConsistency, from a store) proves that the tree at one size
// extends the tree at a smaller one; VerifyConsistency checks the proof offline between
// two signed checkpoints, so whoever kept an old checkpoint can tell a later one that
// drops or changes records. With Config.Published the log remembers outside the store
// the largest checkpoint it signed (published.go), and Open refuses a store that lost
// records it covered, even with their checkpoints deleted.
//
// One Log writes a store at a time: seqs are assigned in memory. A second writer is not
// corrupted but refused (its batches conflict on seq).
package audit
