package attack_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/synth"
	"github.com/crossroads-hub/crossroads/internal/testwait"
)

// logBuffer is a hub's log, read by the test.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// An exchange whose client went away before the answer is still recorded: the audit
// write does not use the request's cancelled context (#13, F3: 20,401 attempts were in
// no record, each an ERROR line instead).
func TestExchangeOfAClientGoneIsRecorded(t *testing.T) {
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	// The source answers only when the hub gives up on it: when its client has gone.
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer stub.Close()
	defer close(release)
	var logs logBuffer
	tg := start(t, func(c *hub.Config) {
		c.BuiltinOverHTTP, c.SourceURLs = true, map[string]string{"civil": stub.URL}
		c.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	// A person of the fund's files the other tests do not ask about (the listing of a
	// person's exchanges is paged: it must stay short).
	fs := tg.files(t, synth.PensionFund, today(), 1000)
	person := fs[len(fs)-1].Person
	tok := tg.token(t, synth.PensionFund)
	// Four times: an audit write under a cancelled context fails only some of the time
	// (which of two ready channels a select takes is chance).
	for range 4 {
		before := len(tg.auditByPerson(t, person))
		conn, err := net.Dial("tcp", strings.TrimPrefix(tg.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		body := message("search", "", "", byID("PN", person))
		fmt.Fprintf(conn, "POST /dci/crvs/registry/sync/search HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			tok, len(body), body)
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("the question never reached the source")
		}
		conn.Close() // the client goes away while the source is asked
		testwait.For(t, 10*time.Second, func() error {
			if n := len(tg.auditByPerson(t, person)); n != before+1 {
				return fmt.Errorf("%s has %d records, %d before the question; want one more: the exchange of a client gone", person, n, before)
			}
			return nil
		})
	}
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"level":"ERROR"`) {
			t.Errorf("the hub logged an error: %s", l)
		}
	}
}
