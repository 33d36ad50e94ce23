package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/crossroads-hub/crossroads/internal/metrics"
)

// batchLoad is what one batch consultation measured, end to end: the body sent as a
// stream, every answer line read by the client.
type batchLoad struct {
	lines, answered int
	elapsed         time.Duration
	cpu             time.Duration // processor time of the whole process (client and hub)
}

// persons per second, end to end.
func (b batchLoad) rate() float64 { return float64(b.lines) / b.elapsed.Seconds() }

// batchBody is a body of n lines, the persons cycled: an institution's own files, read
// again when n is larger than they are.
func batchBody(persons []string, n int) []byte {
	var b bytes.Buffer
	b.Grow(n * 12) // no header line: a batch holds at most 1,000,000 lines, and n may be that
	for i := range n {
		b.WriteString(persons[i%len(persons)])
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// runBatch posts body to base's /exchange/batch and reads the answer to its summary.
func runBatch(ctx context.Context, base, token string, body []byte) (batchLoad, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/exchange/batch", bytes.NewReader(body))
	if err != nil {
		return batchLoad{}, err
	}
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Authorization", "Bearer "+token)
	start, cpu := time.Now(), metrics.ProcessCPU()
	resp, err := (&http.Client{Timeout: time.Hour}).Do(req)
	if err != nil {
		return batchLoad{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return batchLoad{}, fmt.Errorf("batch: %d %s", resp.StatusCode, b)
	}
	var l batchLoad
	br := bufio.NewReaderSize(resp.Body, 256<<10)
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return l, fmt.Errorf("batch: a line longer than %d bytes", br.Size())
		}
		if len(line) > 0 {
			switch {
			case bytes.HasPrefix(line, []byte(`{"done":true`)):
				l.elapsed, l.cpu = time.Since(start), metrics.ProcessCPU()-cpu
				return l, nil
			case bytes.HasPrefix(line, []byte(`{"done":`)):
				return l, fmt.Errorf("batch stopped: %s", line)
			}
			l.lines++
			if bytes.Contains(line, []byte(`"status":200`)) {
				l.answered++
			}
		}
		if err != nil {
			return l, fmt.Errorf("batch: the answer ended without a summary after %d lines: %v", l.lines, err)
		}
	}
}

// addBatch reports a batch's figures.
func addBatch(r *Result, l batchLoad) {
	r.add("batch_persons", "batch consultation: persons (lines)", l.lines, "")
	r.add("batch_answered", "batch consultation: answered", l.answered, "")
	r.add("batch_seconds", "batch consultation: time, end to end", decimals(l.elapsed.Seconds(), 3), "s")
	r.add("batch_persons_per_s", "batch consultation: persons/s, end to end", round(l.rate()), "/s")
	r.add("batch_cpu_us", "batch consultation: processor time a person, client and hub", decimals(float64(l.cpu.Microseconds())/float64(max(l.lines, 1)), 2), "µs")
}
