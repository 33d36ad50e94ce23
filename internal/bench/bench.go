// Package bench measures the figures the project promises, in one process on this
// machine, and reports them as a readable table and as one JSON object, so that anyone
// can script them. Each benchmark is a function from options to a Result.
package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"text/tabwriter"
	"time"
)

// Result is the outcome of one benchmark: rows for people, figures for scripts.
type Result struct {
	Name    string
	Rows    [][2]string    // label, value — in the order printed
	Figures map[string]any // the JSON object printed last with --json
}

func newResult(name string) *Result {
	return &Result{Name: name, Figures: map[string]any{"benchmark": name}}
}

// add records a figure under a JSON key and a row under a label.
func (r *Result) add(key, label string, value any, unit string) {
	r.Figures[key] = value
	text := fmt.Sprint(value)
	if f, ok := value.(float64); ok {
		text = fmt.Sprintf("%.1f", f)
		if f < 10 {
			text = fmt.Sprintf("%.3f", f)
		}
	}
	if unit != "" {
		text += " " + unit
	}
	r.Rows = append(r.Rows, [2]string{label, text})
}

// Print writes the table, then, with asJSON, the figures as one JSON object on the last line.
func (r *Result) Print(w io.Writer, asJSON bool) error {
	fmt.Fprintf(w, "benchmark %s\n", r.Name)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "  %s\t%s\n", row[0], row[1])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !asJSON {
		return nil
	}
	b, err := json.Marshal(r.Figures)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// latencies summarises durations.
type latencies []time.Duration

func (l latencies) percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	i := int(p / 100 * float64(len(s)-1))
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func round(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// decimals rounds f to n decimals; the JSON of the result is that short (0.571, not
// 0.5710000000000001).
func decimals(f float64, n int) float64 {
	p := math.Pow10(n)
	return math.Round(f*p) / p
}
