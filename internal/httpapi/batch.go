package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	batchWorkers    = 16        // questions of one batch in flight at once
	batchWindow     = 64        // lines read ahead of the one being written
)

// BatchLine is one line of a batch consultation's answer stream.
type BatchLine struct {
	Line   int            `json:"line"` // line of the request body
	Person string         `json:"person"`
	Status int            `json:"status"` // 200 answered, 403 refused, 400 bad line, 404 unknown, 502 source error
	Record map[string]any `json:"record,omitempty"`
	Error  string         `json:"error,omitempty"`
	// Audit is the audit record of this person's exchange; its response hash is that of
	// this line as JSON without the audit field.
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
// each person decided, answered and recorded on its own; the last line is a summary.
// A line is sent only once its exchange is recorded; if recording fails the stream stops.
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

// personLine is a line of the body that names a person, or, with stop, why reading
// stopped before the end.
type personLine struct {
	line   int
	person string
	result chan BatchLine
	stop   error
}

// eachPerson reads body line by line and calls fn with each line naming a person (the
// first column, trimmed) until fn returns false; blank lines and a first line "person"
// are skipped. It stops at a line longer than maxConsultLine or beyond maxConsultLines.
func eachPerson(body io.Reader, fn func(line int, person string) bool) error {
	br := bufio.NewReaderSize(body, 16<<10)
	for n := 1; ; n++ {
		b, err := br.ReadSlice('\n')
		if len(b) == 0 && err == io.EOF {
			return nil
		}
		if err == bufio.ErrBufferFull || len(bytes.TrimRight(b, "\r\n")) > maxConsultLine {
			return dci.Coded(fault.Invalid, dci.ErrRequestBad, "body", fmt.Sprintf("line %d is longer than %d bytes", n, maxConsultLine))
		}
		var mb *http.MaxBytesError
		switch {
		case errors.As(err, &mb):
			return dci.Coded(fault.TooLarge, dci.ErrRequestBad, "body", fmt.Sprintf("is larger than %d bytes; split it", mb.Limit))
		case err != nil && err != io.EOF:
			return dci.Coded(fault.Invalid, dci.ErrRequestBad, "body", "cannot be read: "+err.Error())
		case n > maxConsultLines:
			return dci.Coded(fault.Invalid, dci.ErrRequestBad, "body", fmt.Sprintf("holds more than %d lines; split it", maxConsultLines))
		}
		first, _, _ := bytes.Cut(b, []byte(","))
		person := string(bytes.TrimSpace(first))
		if person != "" && (n > 1 || !strings.EqualFold(person, "person")) && !fn(n, person) {
			return nil
		}
		if err == io.EOF {
			return nil
		}
	}
}

// streamBatch reads the persons of body and asks about them with a few workers, writing
// the answers in order as they come; a window of lines is read ahead. The error is set
// only when the request is refused before any line was written.
func (s *Server) streamBatch(ctx context.Context, out *lineStream, batch *exchange.Batch, base exchange.Ask, body io.Reader) (BatchSummary, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	order := make(chan personLine, batchWindow) // in the order of the body, for the writer
	jobs := make(chan personLine)               // for the workers
	var wg sync.WaitGroup
	for range batchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				p.result <- s.consultOne(ctx, batch, base, p.line, p.person)
			}
		}()
	}
	var read atomic.Bool // the body was read to its end
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(order)
		defer close(jobs)
		defer read.Store(true)
		err := eachPerson(body, func(line int, person string) bool {
			p := personLine{line: line, person: person, result: make(chan BatchLine, 1)}
			for _, ch := range []chan personLine{order, jobs} {
				select {
				case ch <- p:
				case <-ctx.Done():
					return false
				}
			}
			return true
		})
		if err != nil {
			select {
			case order <- personLine{stop: err}:
			case <-ctx.Done():
			}
		}
	}()
	sum, err := s.writeLines(ctx, out, order)
	cancel()
	if !read.Load() {
		// The stream stopped before the body's end: a read waiting for the client must
		// return. The connection's reads then fail, and the server closes it; once the
		// body is read, its deadline must not be touched, or the connection, kept alive,
		// would cancel the context of the client's next request on it.
		out.unblock()
	}
	wg.Wait()
	return sum, err
}

// lineStream is the answer: its header is written with the first line, so that a
// request refused before any person was answered gets an error status instead.
type lineStream struct {
	w       http.ResponseWriter
	body    io.Reader // the request's body
	started bool
}

func (o *lineStream) begin() {
	if !o.started {
		o.started = true
		o.w.Header().Set("Content-Type", "application/x-ndjson")
		o.w.Header().Set("X-Content-Type-Options", "nosniff")
		o.w.WriteHeader(http.StatusOK)
	}
}

// unblock makes a read of the body that waits for the client return: the stream is over.
func (o *lineStream) unblock() {
	if b, ok := o.body.(*slowBody); ok {
		b.stop() // else its next read would set a later deadline
		return
	}
	_ = http.NewResponseController(o.w).SetReadDeadline(time.Now())
}

func (s *Server) writeLines(ctx context.Context, out *lineStream, order <-chan personLine) (BatchSummary, error) {
	enc := json.NewEncoder(out.w)
	rc := http.NewResponseController(out.w) // flushes through the middleware's writer
	sum := BatchSummary{Done: true}
	for i := 0; ; i++ {
		var p personLine
		var ok bool
		select {
		case p, ok = <-order:
		case <-ctx.Done():
			return BatchSummary{Lines: sum.Lines, Answered: sum.Answered, Refused: sum.Refused, Other: sum.Other, Error: "the request was cancelled"}, nil
		}
		if !ok {
			return sum, nil
		}
		if p.stop != nil {
			if !out.started {
				return sum, p.stop
			}
			sum.Done, sum.Error = false, "stopped before the end: "+dci.SafeMessage(p.stop)
			return sum, nil
		}
		var l BatchLine
		select {
		case l = <-p.result:
		case <-ctx.Done():
			return BatchSummary{Lines: sum.Lines, Answered: sum.Answered, Refused: sum.Refused, Other: sum.Other, Error: "the request was cancelled"}, nil
		}
		out.begin()
		if l.Status == http.StatusServiceUnavailable && l.Audit == 0 {
			sum.Done, sum.Error = false, "stopped at line "+strconv.Itoa(l.Line)+": "+l.Error
			return sum, nil
		}
		sum.Lines++
		switch l.Status {
		case http.StatusOK:
			sum.Answered++
		case http.StatusForbidden:
			sum.Refused++
		default:
			sum.Other++
		}
		if enc.Encode(l) != nil {
			return sum, nil
		}
		if i%256 == 0 || len(order) == 0 {
			_ = rc.Flush()
		}
	}
}

// consultOne asks about one person and records the exchange.
func (s *Server) consultOne(ctx context.Context, batch *exchange.Batch, base exchange.Ask, line int, person string) BatchLine {
	defer s.exchange.Expect(1)()
	ask := base
	ask.Query = query.Query{Kind: query.KindID, IDType: "PN", IDValue: person, Page: 1, PageSize: 1}
	ask.Request = []byte(person)
	ans := batch.Search(ctx, ask)
	l := BatchLine{Line: line, Person: person, Status: ans.Status}
	if ans.Err != nil {
		l.Error = dci.SafeMessage(ans.Err)
	} else if recs := ans.Decoded(); len(recs) == 0 {
		l.Status, l.Error = http.StatusNotFound, "no such person in the source"
	} else {
		l.Record = recs[0]
	}
	resp, _ := json.Marshal(l)
	seq, err := s.exchange.Seal(ctx, ask, ans, resp)
	if err != nil {
		return BatchLine{Line: line, Person: person, Status: http.StatusServiceUnavailable, Error: dci.SafeMessage(err)}
	}
	l.Audit = seq
	return l
}
