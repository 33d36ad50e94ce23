package attack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/oauth"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// Issue #13 part 4: one client must not starve or bloat the hub. Each test sends what
// an abusive client would and checks the outcome: refused with a clear error, memory
// bounded, audit records bounded, other clients still served.

// maxExtraAlloc is what one abusive request may make the process allocate: loose, so
// that the hub's own background work during the request never fails the test, but far
// below what the attacks cost before (gigabytes, hundreds of megabytes).
const maxExtraAlloc = 64 << 20

// allocatedBy runs f and returns the bytes the process (the hub runs in it) allocated
// meanwhile.
func allocatedBy(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// errorCode reads the DCI error code of a refused request ({"errors":[{"code"}]}) or the
// admin API's ({"error":{"code","field","message"}}), with its message.
func errorCode(t *testing.T, body []byte) (code, msg string) {
	t.Helper()
	var b struct {
		Errors []struct{ Code, Message string }      `json:"errors"`
		Error  struct{ Code, Field, Message string } `json:"error"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("error body %s: %v", clip(body), err)
	}
	if len(b.Errors) > 0 {
		return b.Errors[0].Code, b.Errors[0].Message
	}
	return b.Error.Code, b.Error.Field + ": " + b.Error.Message
}

// Not in parallel: it measures what the whole process allocates (allocatedBy).
func TestBatchOfBlankLinesIsRefusedInBoundedMemory(t *testing.T) {
	tg := start(t, nil)
	tok := tg.token(t, synth.PensionFund)
	museum := tg.token(t, synth.Museum) // no authorization at all: refused before the lines are read
	for _, c := range []struct {
		name string
		body []byte
		want string // in the error message
	}{
		{"16 MiB of blank lines", bytes.Repeat([]byte("\n"), 16<<20), "lines"},
		{"one line of 8 MiB", bytes.Repeat([]byte("8"), 8<<20), "longer than"},
		{"a million and one short lines", bytes.Repeat([]byte(" \r\n"), 1_000_001), "lines"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var status int
			var body []byte
			n := allocatedBy(func() { status, _, body = tg.do(t, "POST", "/exchange/batch", tok, "text/plain", c.body) })
			t.Logf("the request made the process allocate %.1f MiB", float64(n)/(1<<20))
			if n > maxExtraAlloc {
				t.Errorf("the request made the process allocate %d MiB; want at most %d", n>>20, maxExtraAlloc>>20)
			}
			if status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", status, clip(body))
			}
			code, msg := errorCode(t, body)
			if code != "err.request.bad" || !strings.Contains(msg, c.want) {
				t.Errorf("error %s %q; want err.request.bad naming the limit (%q)", code, msg, c.want)
			}
			n = allocatedBy(func() { status, _, body = tg.do(t, "POST", "/exchange/batch", museum, "text/plain", c.body) })
			if n > maxExtraAlloc {
				t.Errorf("the museum's request made the process allocate %d MiB; want at most %d", n>>20, maxExtraAlloc>>20)
			}
			// 429 once the museum's refused lines have spent its budget (they are charged).
			if status != http.StatusForbidden && status != http.StatusTooManyRequests {
				t.Errorf("the museum's request: status %d, want 403 (no authorization) or 429 before any line is counted: %s", status, clip(body))
			}
		})
	}
}

func TestBatchStillAnswersPersonsAsAStream(t *testing.T) {
	t.Parallel()
	tg := start(t, nil)
	files := tg.files(t, synth.PensionFund, today(), 3)
	if len(files) < 3 {
		t.Fatalf("the pension fund holds %d files", len(files))
	}
	body := "person\n" + files[0].Person + "\n\n" + files[1].Person + ",x\n" + files[2].Person + "\n"
	status, _, out := tg.do(t, "POST", "/exchange/batch", tg.token(t, synth.PensionFund), "text/csv", []byte(body))
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, clip(out))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 3 answers and a summary: %s", len(lines), clip(out))
	}
	for i, want := range []struct {
		line   int
		person string
	}{{2, files[0].Person}, {4, files[1].Person}, {5, files[2].Person}} {
		var l struct {
			Line   int    `json:"line"`
			Person string `json:"person"`
			Status int    `json:"status"`
			Audit  int64  `json:"audit"`
		}
		if err := json.Unmarshal([]byte(lines[i]), &l); err != nil {
			t.Fatal(err)
		}
		if l.Line != want.line || l.Person != want.person || l.Status != 200 || l.Audit == 0 {
			t.Errorf("line %d = %+v; want line %d, person %s, 200, recorded", i, l, want.line, want.person)
		}
	}
	if !strings.Contains(lines[3], `"done":true`) || !strings.Contains(lines[3], `"answered":3`) {
		t.Errorf("summary %s", lines[3])
	}
}

// Not in parallel: it measures what the whole process allocates (allocatedBy).
func TestAdminUploadIsBounded(t *testing.T) {
	tg := start(t, nil)
	var many bytes.Buffer
	many.WriteString("person,institution,capacity,begin,end\n")
	for i := range 800_000 { // about 40 MB: every line names an institution that does not exist
		fmt.Fprintf(&many, "%011d,NO-SUCH-INSTITUTION,001,2024-01-01,\n", i)
	}
	long := "person,institution,capacity,begin,end\n" + strings.Repeat("9", 4<<20) + "\n"
	for _, c := range []struct {
		name string
		body []byte
		want string
	}{
		{"800,000 lines", many.Bytes(), "split"},
		{"a line of 4 MiB", []byte(long), "longer than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var status int
			var body []byte
			n := allocatedBy(func() { status, _, body = tg.do(t, "POST", "/admin/integrations", tg.admin, "text/csv", c.body) })
			t.Logf("the upload made the process allocate %.1f MiB", float64(n)/(1<<20))
			if n > maxExtraAlloc {
				t.Errorf("the upload made the process allocate %d MiB; want at most %d", n>>20, maxExtraAlloc>>20)
			}
			if status != http.StatusBadRequest && status != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 400 or 413: %.300s", status, body)
			}
			if _, msg := errorCode(t, body); !strings.Contains(msg, c.want) {
				t.Errorf("error %q does not name the limit (%q)", msg, c.want)
			}
		})
	}
}

// auditRecord reads audit record seq back, as the log keeps it.
func (tg *target) auditRecord(t *testing.T, seq string) []byte {
	t.Helper()
	status, body := tg.adminDo(t, "GET", "/audit/records/"+seq+"/evidence", nil)
	if status != http.StatusOK {
		t.Fatalf("evidence of %s: %d %s", seq, status, clip(body))
	}
	var ev struct {
		Record []byte `json:"record"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	return ev.Record
}

// maxRecord bounds one audit record, whatever the caller sent.
const maxRecord = 8 << 10

func TestFreeTextReachesTheAuditLogBounded(t *testing.T) {
	t.Parallel()
	tg := start(t, nil)
	tok := tg.token(t, synth.PensionFund)
	files := tg.files(t, synth.PensionFund, today(), 100)
	huge := strings.Repeat("p", 100_000)
	t.Run("purpose of 100,000 characters, 100 items", func(t *testing.T) {
		items := make([]string, len(files))
		for i, f := range files {
			items[i] = byID("PN", f.Person)
		}
		meta := fmt.Sprintf(`{"purpose":%q,"fields":["family_name"]}`, huge)
		status, h, body := tg.do(t, "POST", "/dci/crvs/registry/sync/search", tok, "application/json", message("search", meta, "", items...))
		// The purpose is granted to no one: the message is refused as a whole, one record.
		seqs := strings.Split(h.Get("X-Audit-Records"), ",")
		if seqs[0] == "" {
			t.Fatalf("status %d, audit records %q: %s", status, h.Get("X-Audit-Records"), clip(body))
		}
		for _, seq := range []string{seqs[0], seqs[len(seqs)-1]} {
			if rec := tg.auditRecord(t, seq); len(rec) > maxRecord {
				t.Errorf("audit record %s holds %d bytes; want at most %d: %.300s", seq, len(rec), maxRecord, rec)
			}
		}
	})
	t.Run("batch purpose of 100,000 characters", func(t *testing.T) {
		// Refused as a whole (the purpose is granted to no one): one record.
		status, h, body := tg.do(t, "POST", "/exchange/batch?purpose="+huge+"&fields="+huge, tok, "text/plain", []byte(files[0].Person+"\n"))
		seq := h.Get("X-Audit-Records")
		if status != http.StatusForbidden || seq == "" {
			t.Fatalf("status %d, audit record %q: %s", status, seq, clip(body))
		}
		if rec := tg.auditRecord(t, seq); len(rec) > maxRecord {
			t.Errorf("audit record %s holds %d bytes; want at most %d: %.300s", seq, len(rec), maxRecord, rec)
		}
	})
	t.Run("too many items", func(t *testing.T) {
		items := make([]string, 101)
		for i := range items {
			items[i] = byID("PN", files[i%len(files)].Person)
		}
		status, _, body := tg.do(t, "POST", "/dci/crvs/registry/sync/search", tok, "application/json", message("search", "", "", items...))
		if code, msg := errorCode(t, body); status != http.StatusBadRequest || code != "err.request.bad" || !strings.Contains(msg, "search_request") {
			t.Errorf("101 items: status %d, %s %q; want 400 err.request.bad naming message.search_request", status, code, msg)
		}
	})
}

func TestConcurrentFiltersOfOneClientDoNotStarveAnother(t *testing.T) {
	t.Parallel()
	tg := start(t, nil)
	abuser := tg.token(t, synth.PensionFund)
	other := tg.token(t, synth.HealthInsurer1)
	mine := tg.files(t, synth.HealthInsurer1, today(), 20)
	// given_name has no column: the whole register is read and each person examined.
	scan := byPredicate("", pred("given_name", "eq", "Nobody-At-All"))

	type outcome struct {
		status int
		h      http.Header
		body   []byte
	}
	const n = 40
	out := make([]outcome, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			status, h, body := tg.dci(t, abuser, search{criteria: scan})
			out[i] = outcome{status, h, body}
		}()
	}
	lookups := make(chan error, 1)
	go func() {
		<-gate
		for _, f := range mine {
			status, _, body := tg.dci(t, other, search{criteria: byID("PN", f.Person)})
			if status != http.StatusOK {
				lookups <- fmt.Errorf("look-up of %s during the filters: %d %s", f.Person, status, clip(body))
				return
			}
		}
		lookups <- nil
	}()
	close(gate)
	wg.Wait()
	if err := <-lookups; err != nil {
		t.Error(err)
	}
	var limited []outcome
	for _, o := range out {
		switch o.status {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			limited = append(limited, o)
		default:
			t.Errorf("filter: status %d %s; want 200 or 429", o.status, clip(o.body))
		}
	}
	if len(limited) == 0 {
		t.Fatalf("%d concurrent full-scan filters of one client were all run; want some refused with 429", n)
	}
	o := limited[0]
	if s, err := strconv.Atoi(o.h.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("429 with Retry-After %q; want a number of seconds", o.h.Get("Retry-After"))
	}
	if code, _ := errorCode(t, o.body); code != "err.request.too_many_requests" {
		t.Errorf("429 with code %s; want err.request.too_many_requests", code)
	}
	seq := o.h.Get("X-Audit-Records")
	if seq == "" {
		t.Fatalf("the refusal names no audit record")
	}
	var rec struct {
		Client, Decision, Outcome string
		Status                    int
	}
	if err := json.Unmarshal(tg.auditRecord(t, seq), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Client != synth.AppID(synth.PensionFund) || rec.Decision != "deny" || rec.Status != http.StatusTooManyRequests {
		t.Errorf("audit record %s = %+v; want the pension fund's refusal, 429", seq, rec)
	}
}

// tokenFrom asks for a token with client_id and secret from the local address from
// (127.0.0.x: every such address reaches the hub on Linux), returning the status and
// the Retry-After header.
func (tg *target) tokenFrom(t *testing.T, from, id, secret string) (int, string) {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	defer c.CloseIdleConnections()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	resp, err := c.PostForm(tg.url+"/oauth2/client/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

func TestWrongSecretsAreLimitedByClientAndByAddress(t *testing.T) {
	t.Parallel()
	// The budgets refill with the clock, at the default of 50 failures from an address
	// a minute, one in 1.2 s: on a busy machine, where the hub answers a guess in a
	// second, the budget would refill almost as fast as the guesses spend it, and the
	// right secret sent after a refusal find it refilled. The same limits by the hour
	// refill too slowly for that.
	tg := start(t, func(c *hub.Config) { c.Guesses = oauth.GuessLimits{Window: time.Hour} })
	ctx := context.Background()
	secretOf := func(institution string) string {
		s, err := tg.st.Directory.IssueClientSecret(ctx, "attack", synth.AppID(institution))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	wrong := "crc.nobody.wrong-secret"
	// refusedAfter sends wrong secrets until one is answered 429 (at most max).
	refusedAfter := func(from string, id func(i int) string, max int) (int, string) {
		for i := range max {
			switch status, retry := tg.tokenFrom(t, from, id(i), wrong); status {
			case http.StatusTooManyRequests:
				return i, retry
			case http.StatusUnauthorized:
			default:
				t.Fatalf("wrong secret %d: status %d", i, status)
			}
		}
		return max, ""
	}

	t.Run("by client id", func(t *testing.T) {
		victim := synth.AppID(synth.PensionFund)
		right, other := secretOf(synth.PensionFund), secretOf(synth.HealthInsurer1)
		n, retry := refusedAfter("127.0.0.1", func(int) string { return victim }, 200)
		if n == 200 {
			t.Fatalf("200 wrong secrets for %s were all answered 401; want 429 after a few", victim)
		}
		if s, err := strconv.Atoi(retry); err != nil || s < 1 {
			t.Errorf("429 with Retry-After %q", retry)
		}
		if status, _ := tg.tokenFrom(t, "127.0.0.1", victim, right); status != http.StatusTooManyRequests {
			t.Errorf("the right secret of a client under attack: %d; want 429 until the window passes (else guesses could go on)", status)
		}
		if status, _ := tg.tokenFrom(t, "127.0.0.1", synth.AppID(synth.HealthInsurer1), other); status != http.StatusOK {
			t.Errorf("another client, same address: %d; want 200", status)
		}
	})
	t.Run("by address", func(t *testing.T) {
		city, right := synth.AppID(synth.CityPrefix+"R01"), secretOf(synth.CityPrefix+"R01")
		n, retry := refusedAfter("127.0.0.2", func(i int) string { return fmt.Sprintf("guess-%d-app", i) }, 1000)
		if n == 1000 {
			t.Fatalf("1000 wrong secrets from one address were all answered 401; want 429 after some")
		}
		if s, err := strconv.Atoi(retry); err != nil || s < 1 {
			t.Errorf("429 with Retry-After %q", retry)
		}
		if status, _ := tg.tokenFrom(t, "127.0.0.2", city, right); status != http.StatusTooManyRequests {
			t.Errorf("a right secret from the address under limit: %d; want 429", status)
		}
		if status, _ := tg.tokenFrom(t, "127.0.0.3", city, right); status != http.StatusOK {
			t.Errorf("the same client from another address: %d; want 200", status)
		}
	})
}
