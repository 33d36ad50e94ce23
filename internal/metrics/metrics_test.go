package metrics_test

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/crossroads-hub/crossroads/internal/metrics"
)

// TestExposition: counters and histograms with labels in Prometheus's text format, series
// in the order of their label values, label values escaped, buckets cumulative.
func TestExposition(t *testing.T) {
	reg := metrics.NewRegistry()
	req := reg.Counter("crossroads_http_requests_total", "HTTP requests by route and status.", "route", "status")
	lat := reg.Histogram("crossroads_http_request_seconds", "HTTP request latency by route.", []float64{0.1, 0.01, 1}, "route")
	req.WithLabelValues("GET /b", "200").Inc()
	req.WithLabelValues("GET /a", "404").Add(2)
	req.WithLabelValues(`say "hi"`+"\n", "200").Inc()
	for _, x := range []float64{0.005, 0.05, 0.05, 3} {
		lat.WithLabelValues("GET /a").Observe(x)
	}
	rec := httptest.NewRecorder()
	reg.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	want := `# HELP crossroads_http_requests_total HTTP requests by route and status.
# TYPE crossroads_http_requests_total counter
crossroads_http_requests_total{route="GET /a",status="404"} 2
crossroads_http_requests_total{route="GET /b",status="200"} 1
crossroads_http_requests_total{route="say \"hi\"\n",status="200"} 1
# HELP crossroads_http_request_seconds HTTP request latency by route.
# TYPE crossroads_http_request_seconds histogram
crossroads_http_request_seconds_bucket{route="GET /a",le="0.01"} 1
crossroads_http_request_seconds_bucket{route="GET /a",le="0.1"} 3
crossroads_http_request_seconds_bucket{route="GET /a",le="1"} 3
crossroads_http_request_seconds_bucket{route="GET /a",le="+Inf"} 4
crossroads_http_request_seconds_sum{route="GET /a"} 3.105
crossroads_http_request_seconds_count{route="GET /a"} 4
`
	if got := rec.Body.String(); got != want {
		t.Errorf("exposition:\n%s\nwant:\n%s", got, want)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestRuntime(t *testing.T) {
	reg := metrics.NewRegistry()
	reg.RegisterRuntime()
	var b strings.Builder
	reg.WriteTo(&b)
	for _, w := range []string{"\ngo_goroutines ", "\ngo_memstats_heap_alloc_bytes ", "\ngo_gc_cycles_total ", `go_info{version="go`, "\nprocess_start_time_seconds "} {
		if !strings.Contains("\n"+b.String(), w) {
			t.Errorf("runtime metrics lack %q:\n%s", w, b.String())
		}
	}
}

// TestConcurrent: counts are exact under concurrent use (run with -race).
func TestConcurrent(t *testing.T) {
	reg := metrics.NewRegistry()
	c := reg.Counter("c_total", "c", "k")
	h := reg.Histogram("h_seconds", "h", []float64{1}, "k")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 1000 {
				c.WithLabelValues([]string{"a", "b"}[i%2]).Inc()
				h.WithLabelValues("x").Observe(0.5)
			}
		})
	}
	wg.Wait()
	var b strings.Builder
	reg.WriteTo(&b)
	for _, w := range []string{`c_total{k="a"} 4000`, `c_total{k="b"} 4000`, `h_seconds_count{k="x"} 8000`, `h_seconds_sum{k="x"} 4000`} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("lacks %s:\n%s", w, b.String())
		}
	}
}
