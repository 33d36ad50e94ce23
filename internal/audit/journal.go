package audit

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/crossroads-hub/crossroads/internal/perm"
)

// A journal is the log's write-ahead file on the hub's own disk, for a store whose
// commits cost far more than a write to a local file (SQLite, where a commit is a
// transaction, several pages written to the WAL and its index updated). The writer
// acknowledges a batch once its frame is written to the journal, with the durability
// of the store it fronts: like SQLite's WAL with synchronous=NORMAL, a frame written
// survives the crash of the process, not the loss of power. Another goroutine moves
// the records into the store, many batches a transaction, and the journal's segments
// are removed once everything in them is stored. Opening the log stores what a crash
// left in the journal before anything else.
//
// The journal is a folder of segments named after the seq of their first record
// (00000000000000000042.seg), each a sequence of frames:
//
//	uint32 LE payload length | uint32 LE CRC-32C of the payload | uint32 LE CRC-32C of the 8 bytes before | payload
//
// and a payload is the batch: uvarint first seq, uvarint record count, then per record
// uvarint length and bytes of its encoding, uvarint person count, and per person
// uvarint length and bytes.
//
// (Versions before 2026-12-07 wrote frames without the header's checksum; a segment
// they left is read once in that format, decodeOldFrames, and the journal is then
// cleared as after any recovery.)
//
// A write cut short by a crash can only leave an incomplete frame at the very end of
// the segment being written (fewer bytes than a header, a header whose payload goes past
// the end of the file, or zeros where the disk had not yet written the data): a frame
// never acknowledged, since the writer acknowledges a frame only once it is written
// whole. Anything else — a header or a payload that fails its checksum, a batch that
// does not decode, a segment whose first record is not the one its name says, records
// missing between frames or segments — is damage: reading stops with a *JournalDamage
// naming the segment, the offset and the records concerned, and the log does not open
// until an operator has dealt with it, so that a record acknowledged is never dropped
// silently. (A segment may also end torn before the next one when a failed write
// could not be cut back; the next segment then continues its seqs, none lost.)
type journal struct {
	dir  string
	lock *os.File
	seg  *os.File // the segment written to; nil until the first frame
	size int64    // bytes in seg
	segs []segment
	buf  []byte
	sync bool // sync each frame (and each new segment's folder entry) before it is acknowledged
}

// segment is one journal file and the seqs it holds.
type segment struct {
	path        string
	first, last int64 // last is first-1 while it holds nothing
}

// segmentMax is the size after which the writer starts a new segment, so that stored
// records leave the disk while records keep coming.
const segmentMax = 4 << 20

// frameMax bounds a frame's payload when reading: a larger length is a torn header.
const frameMax = 1 << 28

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// journaled is a batch read back from the journal.
type journaled struct {
	first   int64
	records []pending
}

// pending is a record acknowledged and not yet stored: its encoding with seq 0 and its
// persons without repeats.
type pending struct {
	body    []byte
	persons []string
}

// ErrJournalInUse is the error of a journal another process holds (a running hub):
// a command that opens the hub's stores itself tells the operator to stop it first.
var ErrJournalInUse = errors.New("in use by another process")

// openJournal opens the journal folder dir, creating it, and takes its lock: one log
// at a time writes a journal. The records are exchanges about persons: the folder and
// its files are the owner's only, those an older version left readable included.
func openJournal(dir string) (*journal, error) {
	if err := perm.MkdirAll(dir); err != nil {
		return nil, err
	}
	if err := perm.Tighten(dir); err != nil {
		return nil, err
	}
	lock, err := perm.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE)
	if err != nil {
		return nil, err
	}
	if err := lockFile(lock); err != nil {
		lock.Close()
		return nil, fmt.Errorf("the audit journal %s is %w: %v", dir, ErrJournalInUse, err)
	}
	return &journal{dir: dir, lock: lock}, nil
}

// JournalDamage is what stops the recovery of a journal: where, and which records.
type JournalDamage struct {
	Segment     string // the segment file
	Offset      int64  // of the damaged frame, or 0 for the segment as a whole
	First, Last int64  // the records concerned; Last 0: from First to the end of the journal
	Reason      string
	// Stored is the store's last record when the damage was found: records up to it
	// are not lost, whatever the journal's copy of them says.
	Stored int64
}

func (d *JournalDamage) Error() string {
	recs := fmt.Sprintf("records %d and after", d.First)
	if d.Last >= d.First && d.Last > 0 {
		recs = fmt.Sprintf("records %d to %d", d.First, d.Last)
	}
	state, then := "acknowledged and not stored", "they are restored, or the segment set aside by an operator who accepts their loss"
	switch {
	case d.Last > 0 && d.Stored >= d.Last:
		state = fmt.Sprintf("already in the store (it holds records to %d): only the journal's copy is damaged", d.Stored)
		then = "an operator sets the segment aside (nothing is lost)"
	case d.Stored >= d.First:
		state = fmt.Sprintf("the store holds them to record %d; any after it were acknowledged and not stored", d.Stored)
	}
	return fmt.Sprintf("the audit journal segment %s is damaged at offset %d (%s): %s concerned, %s; the log does not open until %s",
		d.Segment, d.Offset, d.Reason, recs, state, then)
}

// TornEnd is a write cut short at the end of the journal: bytes ignored, since a frame
// is acknowledged only once written whole. Bytes 0: none.
type TornEnd struct {
	Segment string
	Offset  int64
	Bytes   int
}

// readJournal returns the batches in the journal folder dir, in order, without taking
// its lock (the CLI reads a running hub's journal). A missing folder is an empty
// journal. Damage is a *JournalDamage; a torn end of the last segment is not (its
// records were never acknowledged): torn says where, and the bytes ignored there.
func readJournal(dir string) (out []journaled, torn TornEnd, err error) {
	segs, err := listSegments(dir)
	if err != nil {
		return nil, TornEnd{}, err
	}
	for k, s := range segs {
		data, err := os.ReadFile(s.path)
		if errors.Is(err, os.ErrNotExist) {
			// A running log removed it once stored, and every segment before it first.
			out = out[:0]
			continue
		}
		if err != nil {
			return nil, TornEnd{}, err
		}
		want := s.first
		if n := len(out); n > 0 {
			want = out[n-1].first + int64(len(out[n-1].records))
		}
		var next int64 // the first seq of the next segment, 0 if none
		if k+1 < len(segs) {
			next = segs[k+1].first
		}
		batches, end := decodeFrames(data)
		if len(batches) == 0 && end.at == 0 && end.damage != "" {
			if ob, oend := decodeOldFrames(data); len(ob) > 0 {
				batches, end = ob, oend // a segment an older version wrote, read once
			}
		}
		switch {
		case len(batches) > 0 && batches[0].first != s.first:
			return nil, TornEnd{}, &JournalDamage{Segment: s.path, First: min(s.first, batches[0].first), Last: max(s.first, batches[0].first) - 1,
				Reason: fmt.Sprintf("named for record %d, begins with record %d", s.first, batches[0].first)}
		case len(out) > 0 && s.first != want:
			return nil, TornEnd{}, &JournalDamage{Segment: s.path, First: min(want, s.first), Last: max(want, s.first) - 1,
				Reason: fmt.Sprintf("begins at record %d where record %d was expected: records missing", s.first, want)}
		}
		for i, b := range batches {
			if b.first != want {
				return nil, TornEnd{}, &JournalDamage{Segment: s.path, Offset: int64(end.offsets[i]), First: min(want, b.first), Last: max(want, b.first) - 1,
					Reason: fmt.Sprintf("holds record %d where record %d was expected", b.first, want)}
			}
			out = append(out, b)
			want += int64(len(b.records))
		}
		switch {
		case end.damage != "":
			last := end.next - 1
			if end.next == 0 && next > 0 {
				last = next - 1
			}
			return nil, TornEnd{}, &JournalDamage{Segment: s.path, Offset: int64(end.at), First: want, Last: max(last, 0), Reason: end.damage}
		case end.at >= 0 && next == 0:
			torn = TornEnd{Segment: s.path, Offset: int64(end.at), Bytes: len(data) - end.at} // the last write, cut short
		case end.at >= 0 && next != want:
			return nil, TornEnd{}, &JournalDamage{Segment: s.path, Offset: int64(end.at), First: want, Last: max(next-1, 0),
				Reason: fmt.Sprintf("ends with an incomplete frame and the next segment begins at record %d", next)}
		}
	}
	return out, torn, nil
}

// listSegments returns the segments of dir by first seq.
func listSegments(dir string) ([]segment, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var segs []segment
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".seg")
		if !ok {
			continue
		}
		first, err := strconv.ParseInt(name, 10, 64)
		if err != nil || first < 1 {
			return nil, fmt.Errorf("the audit journal holds %s, not a segment name", e.Name())
		}
		segs = append(segs, segment{path: filepath.Join(dir, e.Name()), first: first, last: first - 1})
	}
	slices.SortFunc(segs, func(a, b segment) int { return cmp.Compare(a.first, b.first) })
	return segs, nil
}

// headerSize is a frame's header: payload length, payload checksum, header checksum.
const headerSize = 12

// frameEnd is how a segment's frames end.
type frameEnd struct {
	offsets []int // of each frame read
	at      int   // offset where reading stopped: -1 at the end of the data
	damage  string
	next    int64 // after damage to a payload under a good header: the first seq of the frame after it, if any
}

// decodeFrames reads the frames of one segment. It stops at the first frame that is
// incomplete (end.at; a torn write if nothing follows it in the journal) or damaged
// (end.damage says how).
func decodeFrames(data []byte) (out []journaled, end frameEnd) {
	off := 0
	for off < len(data) {
		n, ok := header(data[off:])
		switch {
		case !ok && len(data)-off >= headerSize && !zeros(data[off:]):
			end.at, end.damage = off, "frame header checksum differs"
			return out, end
		case !ok || int64(n) > int64(len(data)-off-headerSize):
			end.at = off // incomplete: a header cut short, or zeros, or a payload past the end
			return out, end
		}
		payload := data[off+headerSize : off+headerSize+int(n)]
		if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(data[off+4:]) {
			end.at, end.damage, end.next = off, "frame payload checksum differs", nextFirst(data[off+headerSize+int(n):])
			return out, end
		}
		b, err := decodeBatch(payload)
		if err != nil {
			end.at, end.damage = off, "frame payload does not decode: "+err.Error()
			return out, end
		}
		out = append(out, b)
		end.offsets = append(end.offsets, off)
		off += headerSize + int(n)
	}
	end.at = -1
	return out, end
}

// oldHeaderSize is the header of the frames versions before 2026-12-07 wrote: payload
// length and payload checksum, without a checksum of its own.
const oldHeaderSize = 8

// decodeOldFrames reads a segment written in the older frame format, so that the
// records an older hub acknowledged before it stopped are stored by the version that
// replaces it (the log then clears the journal, and writes the new format only). It is
// tried only when a segment's first frame fails the new format's header checksum, and
// taken only when at least one whole old frame passes its payload checksum, so that
// damage to a new segment is never read as an old one. As with the new format, an
// incomplete frame ends the segment (end.at), and a whole frame that fails its
// checksum or does not decode is damage.
func decodeOldFrames(data []byte) (out []journaled, end frameEnd) {
	off := 0
	for off < len(data) {
		if len(data)-off < oldHeaderSize || zeros(data[off:]) {
			end.at = off
			return out, end
		}
		n := binary.LittleEndian.Uint32(data[off:])
		if n > frameMax || int64(n) > int64(len(data)-off-oldHeaderSize) {
			end.at = off
			return out, end
		}
		payload := data[off+oldHeaderSize : off+oldHeaderSize+int(n)]
		if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(data[off+4:]) {
			end.at, end.damage = off, "frame payload checksum differs (older frame format)"
			return out, end
		}
		b, err := decodeBatch(payload)
		if err != nil {
			end.at, end.damage = off, "frame payload does not decode (older frame format): "+err.Error()
			return out, end
		}
		out = append(out, b)
		end.offsets = append(end.offsets, off)
		off += oldHeaderSize + int(n)
	}
	end.at = -1
	return out, end
}

// header returns the payload length of the frame header at the start of p, and whether
// there is a whole header there that passes its checksum.
func header(p []byte) (uint32, bool) {
	if len(p) < headerSize || crc32.Checksum(p[:8], crcTable) != binary.LittleEndian.Uint32(p[8:]) {
		return 0, false
	}
	n := binary.LittleEndian.Uint32(p)
	return n, n <= frameMax
}

// nextFirst returns the first seq of the frame at the start of p when its header is
// good, or 0: which records a damaged payload held.
func nextFirst(p []byte) int64 {
	if _, ok := header(p); !ok {
		return 0
	}
	first, k := binary.Uvarint(p[headerSize:])
	if k <= 0 || first > 1<<62 {
		return 0
	}
	return int64(first)
}

func zeros(p []byte) bool {
	for _, b := range p {
		if b != 0 {
			return false
		}
	}
	return true
}

// decodeBatch reads one frame's payload.
func decodeBatch(p []byte) (journaled, error) {
	r := &reader{p: p}
	first, n := r.uvarint(), r.uvarint()
	if r.err == nil && (first < 1 || first > 1<<62 || n < 1 || n > uint64(len(p))) {
		r.err = errors.New("bad batch header")
	}
	b := journaled{first: int64(first)}
	for i := uint64(0); i < n && r.err == nil; i++ {
		body := r.bytes()
		np := r.uvarint()
		if np > uint64(len(p)) {
			r.err = errors.New("bad person count")
		}
		var persons []string
		for j := uint64(0); j < np && r.err == nil; j++ {
			persons = append(persons, string(r.bytes()))
		}
		b.records = append(b.records, pending{body: body, persons: persons})
	}
	if r.err == nil && len(r.p) > 0 {
		r.err = errors.New("bytes after the batch")
	}
	return b, r.err
}

type reader struct {
	p   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.p)
	if n <= 0 {
		r.err = io.ErrUnexpectedEOF
		return 0
	}
	r.p = r.p[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.p)) {
		r.err = io.ErrUnexpectedEOF
		return nil
	}
	b := slices.Clone(r.p[:n])
	r.p = r.p[n:]
	return b
}

// appendFrame encodes the batch of records first, first+1, … as one frame.
func appendFrame(dst []byte, first int64, n int, at func(i int) ([]byte, []string)) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, headerSize)...)
	dst = binary.AppendUvarint(dst, uint64(first))
	dst = binary.AppendUvarint(dst, uint64(n))
	for i := range n {
		body, persons := at(i)
		dst = binary.AppendUvarint(dst, uint64(len(body)))
		dst = append(dst, body...)
		dst = binary.AppendUvarint(dst, uint64(len(persons)))
		for _, p := range persons {
			dst = binary.AppendUvarint(dst, uint64(len(p)))
			dst = append(dst, p...)
		}
	}
	payload := dst[start+headerSize:]
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(payload, crcTable))
	binary.LittleEndian.PutUint32(dst[start+8:], crc32.Checksum(dst[start:start+8], crcTable))
	return dst
}

// write appends the batch of records first, first+1, … in one write call, starting a
// new segment when the current one is full. A failed write is cut off again; if that
// fails too, the segment ends there and the next write starts another.
func (j *journal) write(first int64, n int, at func(i int) ([]byte, []string)) error {
	if j.seg == nil || j.size >= segmentMax {
		if err := j.start(first); err != nil {
			return err
		}
	}
	j.buf = appendFrame(j.buf[:0], first, n, at)
	_, err := j.seg.Write(j.buf)
	if err == nil && j.sync {
		err = j.seg.Sync()
	}
	if err != nil {
		if terr := j.seg.Truncate(j.size); terr != nil {
			j.seg.Close() // it ends torn; the next write starts a new segment
			j.seg = nil
		}
		return err
	}
	j.size += int64(len(j.buf))
	j.segs[len(j.segs)-1].last = first + int64(n) - 1
	return nil
}

// start opens a new segment for records from first on.
func (j *journal) start(first int64) error {
	path := filepath.Join(j.dir, fmt.Sprintf("%020d.seg", first))
	f, err := perm.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND)
	if err != nil {
		return err
	}
	if j.sync {
		if err := perm.SyncDir(j.dir); err != nil {
			f.Close()
			return err
		}
	}
	if j.seg != nil {
		j.seg.Close()
	}
	j.seg, j.size = f, 0
	if n := len(j.segs); n > 0 && j.segs[n-1].path == path {
		j.segs = j.segs[:n-1] // a segment whose first write failed, now emptied
	}
	j.segs = append(j.segs, segment{path: path, first: first, last: first - 1})
	return nil
}

// stored removes the segments whose records are all stored (seq ≤ upTo). The one being
// written is removed too when it is full, the next write starting a new one.
func (j *journal) stored(upTo int64) error {
	keep := j.segs[:0]
	for i, s := range j.segs {
		current := i == len(j.segs)-1 && j.seg != nil
		if s.last > upTo || current && j.size < segmentMax {
			keep = append(keep, s)
			continue
		}
		if current {
			j.seg.Close()
			j.seg = nil
		}
		if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			j.segs = append(keep, j.segs[i:]...)
			return err
		}
	}
	j.segs = keep
	return nil
}

// clear removes every segment; the caller has stored all their records.
func (j *journal) clear() error {
	if j.seg != nil {
		j.seg.Close()
		j.seg, j.size = nil, 0
	}
	segs, err := listSegments(j.dir)
	if err != nil {
		return err
	}
	for _, s := range segs {
		if err := os.Remove(s.path); err != nil {
			return err
		}
	}
	j.segs = nil
	return nil
}

// close closes the segment and releases the lock.
func (j *journal) close() error {
	if j.seg != nil {
		j.seg.Close()
		j.seg = nil
	}
	return j.lock.Close() // closing the file releases its lock
}

// Unstored returns the seqs first to last of the records that the journal folder dir
// holds after after, the store's last: records acknowledged before a crash, which the
// log stores when it opens next (or that a running log is about to store). last is 0
// when there are none. It takes no lock, so it can read the journal of a running hub.
func Unstored(dir string, after int64) (first, last int64, err error) {
	batches, _, err := readJournal(dir)
	var d *JournalDamage
	if errors.As(err, &d) {
		d.Stored = after
	}
	if err != nil {
		return 0, 0, err
	}
	for _, b := range batches {
		if end := b.first + int64(len(b.records)) - 1; end > after {
			if first == 0 {
				first = max(b.first, after+1)
			}
			last = end
		}
	}
	return first, last, nil
}

// JournalTorn returns the write cut short at the end of the journal folder dir, if any
// (Bytes 0: none); like Unstored, it takes no lock. What it cannot tell: whole frames
// cut from the journal's end look like records never written (see package doc).
func JournalTorn(dir string) (TornEnd, error) {
	_, torn, err := readJournal(dir)
	return torn, err
}
