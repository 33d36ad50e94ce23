package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/query"
)

// Batch consultation limits.
const (
	maxBatchPersons = 1_000_000
	batchWorkers    = 16 // questions of one batch in flight at once
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
func (s *Server) batchConsult(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	claims, err := s.bearer(r, "registry.search")
	if err != nil {
		s.refuseUnauthenticated(w, r, claims.ClientID, "batch", err)
		return
	}
	if err := needContentType(r, "text/plain", "text/csv"); err != nil {
		s.dciError(w, r, err)
		return
	}
	persons, err := readPersons(w, r)
	if err != nil {
		s.dciError(w, r, err)
		return
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
	// A batch of a million persons streams for minutes: no write deadline for this one.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	sum := s.streamBatch(r.Context(), w, base, persons)
	_ = json.NewEncoder(w).Encode(sum)
}

// readPersons reads the body's person numbers, skipping blank lines and a header.
func readPersons(w http.ResponseWriter, r *http.Request) ([]string, error) {
	sc := bufio.NewScanner(http.MaxBytesReader(w, r.Body, maxBatchBody))
	var out []string
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(strings.Split(sc.Text(), ",")[0])
		if line == "" || (n == 1 && strings.EqualFold(line, "person")) {
			out = append(out, "")
			continue
		}
		if len(out) >= maxBatchPersons {
			return nil, fault.Invalidf("body", "holds more than %d persons; split it", maxBatchPersons)
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, dci.Coded(fault.Invalid, dci.ErrRequestBad, "body", "cannot be read: "+err.Error())
	}
	return out, nil
}

// streamBatch runs the questions with a few workers and writes the lines in order.
func (s *Server) streamBatch(ctx context.Context, w http.ResponseWriter, base exchange.Ask, persons []string) BatchSummary {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]chan BatchLine, len(persons))
	for i := range results {
		results[i] = make(chan BatchLine, 1)
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range batchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] <- s.consultOne(ctx, base, i+1, persons[i])
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i, p := range persons {
			if p == "" {
				results[i] <- BatchLine{Line: i + 1}
				continue
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	sum := s.writeLines(ctx, w, results)
	cancel()
	wg.Wait()
	return sum
}

func (s *Server) writeLines(ctx context.Context, w http.ResponseWriter, results []chan BatchLine) BatchSummary {
	enc := json.NewEncoder(w)
	rc := http.NewResponseController(w) // flushes through the middleware's writer
	sum := BatchSummary{Done: true}
	for i, ch := range results {
		var l BatchLine
		select {
		case l = <-ch:
		case <-ctx.Done():
			return BatchSummary{Lines: sum.Lines, Answered: sum.Answered, Refused: sum.Refused, Other: sum.Other, Error: "the request was cancelled"}
		}
		if l.Person == "" {
			continue // a blank or header line
		}
		if l.Status == http.StatusServiceUnavailable && l.Audit == 0 {
			sum.Done, sum.Error = false, "stopped at line "+strconv.Itoa(l.Line)+": "+l.Error
			return sum
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
			return sum
		}
		if i%256 == 0 || i == len(results)-1 {
			_ = rc.Flush()
		}
	}
	return sum
}

// consultOne asks about one person and records the exchange.
func (s *Server) consultOne(ctx context.Context, base exchange.Ask, line int, person string) BatchLine {
	defer s.exchange.Expect(1)()
	ask := base
	ask.Query = query.Query{Kind: query.KindID, IDType: "PN", IDValue: person, Page: 1, PageSize: 1}
	ask.Request = []byte(person)
	ans := s.exchange.Search(ctx, ask)
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
