package metrics

import (
	"testing"
	"time"
)

func TestRingKeepsTheLatest(t *testing.T) {
	r := NewRing(3)
	if got := r.Samples(); len(got) != 0 {
		t.Fatalf("empty ring: %v", got)
	}
	for i := range 5 {
		r.Add(Sample{Requests: uint64(i)})
	}
	got := r.Samples()
	if len(got) != 3 || got[0].Requests != 2 || got[2].Requests != 4 {
		t.Errorf("Samples = %+v; want 2, 3, 4", got)
	}
}

func TestHTTPSample(t *testing.T) {
	reg := NewRegistry()
	c := reg.Counter("crossroads_http_requests_total", "h", "route", "status")
	c.WithLabelValues("GET /a", "200").Add(7)
	c.WithLabelValues("GET /a", "403").Add(2)
	c.WithLabelValues("POST /b", "503").Add(1)
	c.WithLabelValues("POST /b", "201").Add(1)
	s := reg.HTTPSample(time.Unix(1, 0))
	if s.Requests != 11 || s.Refused != 2 || s.Failed != 1 {
		t.Errorf("HTTPSample = %+v; want 11 requests, 2 refused, 1 failed", s)
	}
	if n := reg.Sum("no_such_total", nil); n != 0 {
		t.Errorf("Sum(unknown) = %d", n)
	}
}
