package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/dci"
	"github.com/crossroads-hub/crossroads/internal/exchange"
	"github.com/crossroads-hub/crossroads/internal/fault"
	"github.com/crossroads-hub/crossroads/internal/rawjson"
)

// A batch is read, answered and written a chunk at a time: the reader cuts the body
// into chunks of at most exchange.MaxAuditPersons persons (fewer when the client has
// sent no more yet, so that a client waiting for its answers gets them), a few workers
// answer chunks (exchange.Batch.Chunk: each line decided, the chunk's persons read at
// once), build their lines, hash them into a Merkle tree and record the chunk
// (exchange.SealChunk), and the writer sends the chunks' lines in the order of the body.

// chunkJob is a chunk of the body, or, with stop, why reading stopped before the end.
type chunkJob struct {
	lines   []int    // the body's line numbers
	persons []string // the first column of each
	request []byte   // the chunk's lines as read, hashed into its record
	result  chan chunkOut
	stop    error
}

// chunkOut is a chunk answered and recorded: its lines to write, or why the stream stops.
type chunkOut struct {
	data                            []byte // the lines, each with its audit member and newline
	lines, answered, refused, other int
	stopped                         string // set when the chunk could not be recorded
}

// eachChunk reads body and calls fn with each chunk of lines naming a person (the first
// column, trimmed) until fn returns false; blank lines and a first line "person" are
// skipped. A chunk ends at exchange.MaxAuditPersons persons, or where the body read so
// far ends. It stops at a line longer than maxConsultLine or beyond maxConsultLines.
func eachChunk(body io.Reader, fn func(c *chunkJob) bool) error {
	br := bufio.NewReaderSize(body, 64<<10)
	c := &chunkJob{}
	send := func() bool {
		if len(c.persons) == 0 {
			return true
		}
		ok := fn(c)
		c = &chunkJob{}
		return ok
	}
	for n := 1; ; n++ {
		b, err := br.ReadSlice('\n')
		if len(b) == 0 && err == io.EOF {
			send()
			return nil
		}
		if err == bufio.ErrBufferFull || len(bytes.TrimRight(b, "\r\n")) > maxConsultLine {
			send()
			return dci.Coded(fault.Invalid, dci.ErrRequestBad, "body", fmt.Sprintf("line %d is longer than %d bytes", n, maxConsultLine))
		}
		var mb *http.MaxBytesError
		switch {
		case errors.As(err, &mb):
			send()
			return dci.Coded(fault.TooLarge, dci.ErrRequestBad, "body", fmt.Sprintf("is larger than %d bytes; split it", mb.Limit))
		case err != nil && err != io.EOF:
			send()
			return dci.Coded(fault.Invalid, dci.ErrRequestBad, "body", "cannot be read: "+err.Error())
		case n > maxConsultLines:
			send()
			return dci.Coded(fault.Invalid, dci.ErrRequestBad, "body", fmt.Sprintf("holds more than %d lines; split it", maxConsultLines))
		}
		first, _, _ := bytes.Cut(b, []byte(","))
		first = bytes.TrimSpace(first)
		if len(first) > 0 && (n > 1 || !strings.EqualFold(string(first), "person")) {
			c.lines = append(c.lines, n)
			c.persons = append(c.persons, string(first))
			c.request = append(c.request, b...)
		}
		if err == io.EOF {
			send()
			return nil
		}
		if (len(c.persons) == exchange.MaxAuditPersons || br.Buffered() == 0) && !send() {
			return nil
		}
	}
}

// streamBatch reads the chunks of body and answers them with a few workers, writing
// the answers in order as they come; a window of chunks is read ahead. The error is set
// only when the request is refused before any line was written.
func (s *Server) streamBatch(ctx context.Context, out *lineStream, batch *exchange.Batch, base exchange.Ask, body io.Reader) (BatchSummary, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	order := make(chan *chunkJob, chunkWindow) // in the order of the body, for the writer
	jobs := make(chan *chunkJob)               // for the workers
	var wg sync.WaitGroup
	for range chunkWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range jobs {
				c.result <- s.answerChunk(ctx, batch, base, c)
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
		err := eachChunk(body, func(c *chunkJob) bool {
			c.result = make(chan chunkOut, 1)
			for _, ch := range []chan *chunkJob{order, jobs} {
				select {
				case ch <- c:
				case <-ctx.Done():
					return false
				}
			}
			return true
		})
		if err != nil {
			select {
			case order <- &chunkJob{stop: err}:
			case <-ctx.Done():
			}
		}
	}()
	sum, err := s.writeChunks(ctx, out, order)
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

// writeChunks writes the chunks' lines in order, flushing after each chunk.
func (s *Server) writeChunks(ctx context.Context, out *lineStream, order <-chan *chunkJob) (BatchSummary, error) {
	rc := http.NewResponseController(out.w) // flushes through the middleware's writer
	sum := BatchSummary{Done: true}
	cancelled := func() (BatchSummary, error) {
		return BatchSummary{Lines: sum.Lines, Answered: sum.Answered, Refused: sum.Refused, Other: sum.Other, Error: "the request was cancelled"}, nil
	}
	for {
		var c *chunkJob
		var ok bool
		select {
		case c, ok = <-order:
		case <-ctx.Done():
			return cancelled()
		}
		if !ok {
			return sum, nil
		}
		if c.stop != nil {
			if !out.started {
				return sum, c.stop
			}
			sum.Done, sum.Error = false, "stopped before the end: "+dci.SafeMessage(c.stop)
			return sum, nil
		}
		var r chunkOut
		select {
		case r = <-c.result:
		case <-ctx.Done():
			return cancelled()
		}
		out.begin()
		if r.stopped != "" {
			sum.Done, sum.Error = false, r.stopped
			return sum, nil
		}
		sum.Lines += r.lines
		sum.Answered += r.answered
		sum.Refused += r.refused
		sum.Other += r.other
		if _, err := out.w.Write(r.data); err != nil {
			return sum, nil
		}
		_ = rc.Flush()
	}
}

// saltSize is the random bytes of a line's salt.
const saltSize = 12

// answerChunk answers a chunk, builds its lines, records it and returns its lines with
// their audit member.
func (s *Server) answerChunk(ctx context.Context, batch *exchange.Batch, base exchange.Ask, job *chunkJob) chunkOut {
	defer s.exchange.Expect(1)()
	c := batch.Chunk(ctx, base, job.persons)
	salts := make([]byte, saltSize*len(c.Lines))
	if _, err := rand.Read(salts); err != nil {
		return chunkOut{stopped: "stopped at line " + strconv.Itoa(job.lines[0]) + ": no randomness for the lines' salts"}
	}
	data := make([]byte, 0, 512*len(c.Lines))
	ends := make([]int, len(c.Lines)) // where each hashed line ends (before its closing brace)
	leaves := make([][32]byte, len(c.Lines))
	for i, l := range c.Lines {
		start := len(data)
		data = appendLine(data, job.lines[i], l, salts[i*saltSize:(i+1)*saltSize])
		leaves[i] = audit.LineHash(data[start:])
		ends[i] = len(data) - 1
	}
	seq, err := s.exchange.SealChunk(ctx, base, c, job.request, audit.LinesRoot(leaves))
	if err != nil {
		return chunkOut{stopped: "stopped at line " + strconv.Itoa(job.lines[0]) + ": " + dci.SafeMessage(err)}
	}
	// Each line as sent: its hashed form with the audit member before the closing brace.
	tail := strconv.AppendInt([]byte(`,"audit":`), seq, 10)
	tail = append(tail, "}\n"...)
	sent := make([]byte, 0, len(data)+len(c.Lines)*len(tail))
	from := 0
	for _, end := range ends {
		sent = append(sent, data[from:end]...)
		sent = append(sent, tail...)
		from = end + 1
	}
	return chunkOut{data: sent, lines: len(c.Lines), answered: c.Answered, refused: c.Refused, other: c.Other}
}

// appendLine appends a line's hashed form: BatchLine's JSON without its audit member.
func appendLine(dst []byte, line int, l exchange.Line, salt []byte) []byte {
	dst = append(dst, `{"line":`...)
	dst = strconv.AppendInt(dst, int64(line), 10)
	dst = append(dst, `,"person":`...)
	dst = rawjson.AppendString(dst, l.Person)
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(l.Status), 10)
	if l.Status == http.StatusOK {
		dst = append(dst, `,"record":`...)
		dst = append(dst, l.Record...)
	} else {
		dst = append(dst, `,"error":`...)
		dst = rawjson.AppendString(dst, dci.SafeMessage(l.Err))
	}
	dst = append(dst, `,"salt":"`...)
	dst = base64.RawURLEncoding.AppendEncode(dst, salt)
	return append(dst, `"}`...)
}
