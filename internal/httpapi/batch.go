package httpapi

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// Batch consultation limits. The body is read as the answer streams, a window of lines
// ahead, so a request's memory does not grow with its body, whatever the body holds.
const (
	maxConsultBody  = 64 << 20  // bytes of a request body
	maxConsultLines = 1_000_000 // lines of a request, blank ones included
	maxConsultLine  = 256       // bytes of one line (a person number, maybe more columns)
	chunkWorkers    = 4         // chunks of one batch in flight at once (batchstream.go)
	chunkWindow     = 8         // chunks read ahead of the one being written
)

// BatchLine is one line of a batch consultation's answer stream.
type BatchLine struct {
	Line   int            `json:"line"` // line of the request body
	Person string         `json:"person"`
	Status int            `json:"status"` // 200 answered, 403 refused, 400 bad line, 404 unknown, 502 source error
	Record map[string]any `json:"record,omitempty"`
	Error  string         `json:"error,omitempty"`
	// Salt is random, so that the hash of this line cannot be confirmed by guessing it.
	Salt string `json:"salt,omitempty"`
	// Audit is the audit record of this person's exchange: one record for a chunk of up
	// to exchange.MaxAuditPersons lines, naming each of their persons; its response hash
	// is the Merkle root of the chunk's lines, each hashed as sent without this member
	// (audit.HashedLine, audit.VerifyLine).
	Audit int64 `json:"audit,omitempty"`
}

// BatchSummary is the last line of the stream.
type BatchSummary struct {
	Done     bool   `json:"done"`
	Lines    int    `json:"lines"`
	Answered int    `json:"answered"`
	Refused  int    `json:"refused"`
	Other    int    `json:"other"`
	Error    string `json:"error,omitempty"` // set when the stream stopped early
}

// batchConsult answers many persons in one request: the body holds one person number a
// line (text/plain or text/csv; a header line "person" is skipped); ?service= names the
// service (default: the civil registry's), ?purpose= and ?fields= as in header.meta.
// The answer is a stream of JSON lines, in the order of the request, one per person,
// each person decided and answered on its own, a chunk of lines recorded at once; the
// last line is a summary. A line is sent only once its chunk is recorded; if recording
// fails the stream stops.
// A batch is an expensive question (exchange.StartBatch): its client's limits apply.
func (s *Server) batchConsult(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	claims, err := s.bearer(r, "registry.search")
	if err != nil {
		return refused(claims.ClientID, "batch", nil, err)
	}
	if err := needContentType(r, "text/plain", "text/csv"); err != nil {
		return rejected(claims, "batch", nil, err)
	}
	if r.ContentLength > maxConsultBody { // announced: refused before a byte is read
		return rejected(claims, "batch", nil, dci.Coded(fault.TooLarge, dci.ErrRequestBad, "body", fmt.Sprintf("is larger than %d bytes; split it", maxConsultBody)))
	}
	q := r.URL.Query()
	service := q.Get("service")
	if service == "" {
		service = s.serviceFor("civil", "")
	}
	var fields []string
	if f := q.Get("fields"); f != "" {
		fields = strings.Split(f, ",")
	}
	base := exchange.Ask{Caller: exchange.Caller{ClientID: claims.ClientID, Institution: claims.Institution},
		Service: service, Purpose: q.Get("purpose"), Fields: fields, Start: start}
	batch, denied := s.exchange.StartBatch(base)
	if denied.Err != nil {
		return s.refuseBatch(w, r, nil, base, denied)
	}
	defer batch.Done()
	if ans := s.exchange.Refusal(base); ans.Err != nil {
		return s.refuseBatch(w, r, batch, base, ans)
	}
	// The body is read while the answer is written, and a batch of a million persons
	// streams for minutes: no deadlines for this one.
	rc := http.NewResponseController(w)
	_ = rc.EnableFullDuplex()
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	out := &lineStream{w: w, body: r.Body}
	sum, err := s.streamBatch(r.Context(), out, batch, base, http.MaxBytesReader(w, r.Body, maxConsultBody))
	if err != nil { // nothing was written: the request is refused as a whole
		return err
	}
	out.begin()
	_ = json.NewEncoder(w).Encode(sum)
	return nil
}

// refuseBatch refuses a batch as a whole, before its lines are checked: one answer (a
// problem, as every error is), one audit record naming the batch (its lines, its hash,
// the persons of its lines up to maxBatchNamed). A batch the policy refuses whatever it
// asks (exchange.Refusal) is read to its end and charged by its lines, blank ones too,
// as if they had been asked: reading them is what it cost. A batch its limits hold back
// (batch nil) is read only up to maxHeldBack bytes, which its record says, so that a 429
// stays cheap.
func (s *Server) refuseBatch(w http.ResponseWriter, r *http.Request, batch *exchange.Batch, ask exchange.Ask, ans exchange.Answer) error {
	limit := int64(maxConsultBody)
	if batch == nil {
		limit = maxHeldBack
	}
	b := readBatch(http.MaxBytesReader(w, r.Body, limit))
	if batch != nil {
		batch.Charge(max(b.lines, 1))
	}
	ask.RequestSum, ans.Persons = b.hash, b.named
	cut := ""
	if b.cut {
		cut = fmt.Sprintf(" in its first %d bytes (it is larger)", limit)
	}
	ans.Decision.Reasons = append(ans.Decision.Reasons, fmt.Sprintf("the batch is refused as a whole: %d lines%s, %d naming a person, body sha256 %x",
		b.lines, cut, b.persons, b.hash))
	body := problemFor(r, ans.Status, ans.Err).bytes()
	seq, err := s.exchange.Seal(r.Context(), ask, ans, body)
	if err != nil {
		return err
	}
	w.Header().Set("X-Audit-Records", strconv.FormatInt(seq, 10))
	retryAfter(w, r, ans.Err)
	writeProblem(w, ans.Status, body)
	return nil
}

// maxHeldBack is how much of a batch held back by its limits is read for its record.
const maxHeldBack = 1 << 20

// maxBatchNamed bounds the persons the record of a batch refused as a whole names.
const maxBatchNamed = 256

// batchBody is what the record of a refused batch says of its body.
type batchBody struct {
	lines, persons int      // lines, and lines naming someone (a first column)
	named          []string // the valid person numbers among them, the first maxBatchNamed
	hash           [32]byte // sha256 of the body (of what was read, when cut)
	cut            bool     // the body was larger than could be read
}

// readBatch reads a batch's body to its end (or its size limit) in bounded memory.
func readBatch(body io.Reader) batchBody {
	var b batchBody
	h := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(body, h), 16<<10)
	seen := map[string]bool{}
	for start := true; ; {
		chunk, err := br.ReadSlice('\n')
		if start && len(chunk) > 0 {
			b.lines++
			first, _, _ := bytes.Cut(chunk, []byte(","))
			if p := string(bytes.TrimSpace(first)); p != "" && (b.lines > 1 || !strings.EqualFold(p, "person")) {
				b.persons++
				for _, n := range exchange.Named(query.Query{Kind: query.KindID, IDValue: p}) {
					if len(b.named) < maxBatchNamed && !seen[n] {
						seen[n] = true
						b.named = append(b.named, n)
					}
				}
			}
		}
		start = err != bufio.ErrBufferFull
		if err != nil && err != bufio.ErrBufferFull {
			var mb *http.MaxBytesError
			b.cut = errors.As(err, &mb)
			break
		}
	}
	copy(b.hash[:], h.Sum(nil))
	return b
}
