// Package metrics keeps the hub's Prometheus metrics — counters and histograms with
// labels, the Go runtime's and the process's own — and writes them in Prometheus's text
// exposition format (0.0.4) for GET /metrics.
//
// It stands in for the Prometheus client library, which with its protocol-buffer
// dependencies was 46 packages and about a tenth of the processor time of the binary's
// first build, for the few series the hub keeps.
package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Registry holds the metric families of one hub, in the order they were made.
type Registry struct {
	mu       sync.Mutex
	families []family
	names    map[string]bool
}

// family is a metric family that writes its series.
type family interface {
	write(w *bufio.Writer)
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{names: map[string]bool{}} }

func (r *Registry) add(name string, f family) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names[name] {
		panic("metrics: " + name + " registered twice")
	}
	r.names[name] = true
	r.families = append(r.families, f)
}

// Handler serves the registry's metrics in the text exposition format.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		r.WriteTo(w)
	})
}

// WriteTo writes every family in the text exposition format.
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	fams := slices.Clone(r.families)
	r.mu.Unlock()
	cw := &countWriter{w: w}
	bw := bufio.NewWriter(cw)
	for _, f := range fams {
		f.write(bw)
	}
	err := bw.Flush()
	return cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// vec is the series of a family, by their label values.
type vec[T any] struct {
	name, help, kind string
	labels           []string
	newSeries        func() *T
	mu               sync.RWMutex
	series           map[string]*T // by label values joined with \xff
}

func (v *vec[T]) with(values []string) *T {
	if len(values) != len(v.labels) {
		panic(fmt.Sprintf("metrics: %s takes %d label values, got %d", v.name, len(v.labels), len(values)))
	}
	key := strings.Join(values, "\xff")
	v.mu.RLock()
	s := v.series[key]
	v.mu.RUnlock()
	if s != nil {
		return s
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if s = v.series[key]; s == nil {
		s = v.newSeries()
		v.series[key] = s
	}
	return s
}

// each calls fn for every series in the order of its label values.
func (v *vec[T]) each(fn func(labels string, s *T)) {
	v.mu.RLock()
	keys := make([]string, 0, len(v.series))
	for k := range v.series {
		keys = append(keys, k)
	}
	v.mu.RUnlock()
	sort.Strings(keys)
	for _, k := range keys {
		v.mu.RLock()
		s := v.series[k]
		v.mu.RUnlock()
		fn(labelPairs(v.labels, strings.Split(k, "\xff")), s)
	}
}

func (v *vec[T]) header(w *bufio.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", v.name, escapeHelp(v.help), v.name, v.kind)
}

// CounterVec is a counter family with labels.
type CounterVec struct{ v vec[Counter] }

// Counter is a count that only goes up.
type Counter struct{ n atomic.Uint64 }

// Inc adds one.
func (c *Counter) Inc() { c.n.Add(1) }

// Add adds n.
func (c *Counter) Add(n uint64) { c.n.Add(n) }

// Value is the count so far.
func (c *Counter) Value() uint64 { return c.n.Load() }

// Counter makes and registers a counter family.
func (r *Registry) Counter(name, help string, labels ...string) *CounterVec {
	c := &CounterVec{vec[Counter]{name: name, help: help, kind: "counter", labels: labels,
		newSeries: func() *Counter { return new(Counter) }, series: map[string]*Counter{}}}
	r.add(name, c)
	return c
}

// WithLabelValues returns the counter of these label values, made at first use.
func (c *CounterVec) WithLabelValues(values ...string) *Counter { return c.v.with(values) }

func (c *CounterVec) write(w *bufio.Writer) {
	c.v.header(w)
	c.v.each(func(labels string, s *Counter) {
		fmt.Fprintf(w, "%s%s %d\n", c.v.name, braces(labels), s.Value())
	})
}

// HistogramVec is a histogram family with labels.
type HistogramVec struct {
	v       vec[Histogram]
	buckets []float64
}

// Histogram counts observations into buckets by upper bound, and keeps their sum.
type Histogram struct {
	bounds []float64
	counts []atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	sum    atomic.Uint64   // float64 bits
}

// Histogram makes and registers a histogram family with these bucket upper bounds.
func (r *Registry) Histogram(name, help string, buckets []float64, labels ...string) *HistogramVec {
	b := slices.Sorted(slices.Values(buckets))
	h := &HistogramVec{buckets: b, v: vec[Histogram]{name: name, help: help, kind: "histogram", labels: labels,
		newSeries: func() *Histogram { return &Histogram{bounds: b, counts: make([]atomic.Uint64, len(b)+1)} },
		series:    map[string]*Histogram{}}}
	r.add(name, h)
	return h
}

// WithLabelValues returns the histogram of these label values, made at first use.
func (h *HistogramVec) WithLabelValues(values ...string) *Histogram { return h.v.with(values) }

// Observe counts x.
func (h *Histogram) Observe(x float64) {
	h.counts[sort.SearchFloat64s(h.bounds, x)].Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+x)) {
			return
		}
	}
}

func (h *HistogramVec) write(w *bufio.Writer) {
	h.v.header(w)
	h.v.each(func(labels string, s *Histogram) {
		var cum uint64
		for i := range s.counts {
			cum += s.counts[i].Load()
			le := "+Inf"
			if i < len(s.bounds) {
				le = formatFloat(s.bounds[i])
			}
			fmt.Fprintf(w, "%s_bucket%s %d\n", h.v.name, braces(join(labels, `le="`+le+`"`)), cum)
		}
		fmt.Fprintf(w, "%s_sum%s %s\n", h.v.name, braces(labels), formatFloat(math.Float64frombits(s.sum.Load())))
		fmt.Fprintf(w, "%s_count%s %d\n", h.v.name, braces(labels), cum)
	})
}

// gauge is a family of one series whose value is read when written.
type gauge struct {
	name, help, kind string
	value            func() (float64, bool) // false: not known here
}

// Gauge registers a gauge read by value at each scrape; kind is "gauge" or "counter"
// (a count the process keeps, such as processor seconds). A value that is not known
// (false) is left out.
func (r *Registry) Gauge(name, help, kind string, value func() (float64, bool)) {
	r.add(name, &gauge{name: name, help: help, kind: kind, value: value})
}

func (g *gauge) write(w *bufio.Writer) {
	v, ok := g.value()
	if !ok {
		return
	}
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", g.name, escapeHelp(g.help), g.name, g.kind, g.name, formatFloat(v))
}

func labelPairs(names, values []string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n)
		b.WriteString(`="`)
		b.WriteString(labelEscaper.Replace(values[i]))
		b.WriteByte('"')
	}
	return b.String()
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeHelp(s string) string { return helpEscaper.Replace(s) }

func braces(labels string) string {
	if labels == "" {
		return ""
	}
	return "{" + labels + "}"
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "," + b
}

func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
