package metrics

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	rtmetrics "runtime/metrics"
	"time"
)

// RegisterRuntime adds the Go runtime's and the process's usual series: goroutines,
// heap, garbage collections, the Go version, the process's start time, processor time
// and (where the system tells) resident memory and open files.
func (r *Registry) RegisterRuntime() {
	r.Gauge("go_goroutines", "Number of goroutines that currently exist.", "gauge", func() (float64, bool) {
		return float64(runtime.NumGoroutine()), true
	})
	r.Gauge("go_memstats_heap_alloc_bytes", "Bytes of allocated heap objects.", "gauge", runtimeMetric("/memory/classes/heap/objects:bytes"))
	r.Gauge("go_memstats_sys_bytes", "Bytes of memory obtained from the OS.", "gauge", runtimeMetric("/memory/classes/total:bytes"))
	r.Gauge("go_gc_cycles_total", "Completed garbage collection cycles.", "counter", runtimeMetric("/gc/cycles/total:gc-cycles"))
	r.add("go_info", &info{})
	start := float64(time.Now().UnixNano()) / 1e9
	r.Gauge("process_start_time_seconds", "Start time of the process since the Unix epoch in seconds.", "gauge", func() (float64, bool) {
		return start, true
	})
	r.Gauge("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter", func() (float64, bool) {
		d := ProcessCPU()
		return d.Seconds(), d > 0
	})
	r.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", residentMemory)
	r.Gauge("process_open_fds", "Number of open file descriptors.", "gauge", func() (float64, bool) {
		fds, err := os.ReadDir("/proc/self/fd")
		return float64(len(fds)), err == nil
	})
}

// runtimeMetric reads one runtime/metrics sample.
func runtimeMetric(name string) func() (float64, bool) {
	return func() (float64, bool) {
		s := []rtmetrics.Sample{{Name: name}}
		rtmetrics.Read(s)
		switch s[0].Value.Kind() {
		case rtmetrics.KindUint64:
			return float64(s[0].Value.Uint64()), true
		case rtmetrics.KindFloat64:
			return s[0].Value.Float64(), true
		}
		return 0, false
	}
}

// residentMemory reads the resident set from /proc (Linux); elsewhere it is not known.
func residentMemory() (float64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	var size, resident uint64
	if _, err := fmt.Sscan(string(b), &size, &resident); err != nil {
		return 0, false
	}
	return float64(resident * uint64(os.Getpagesize())), true
}

// info is go_info, whose one series names the Go version in a label.
type info struct{}

func (info) write(w *bufio.Writer) {
	fmt.Fprintf(w, "# HELP go_info Information about the Go environment.\n# TYPE go_info gauge\ngo_info{version=\"%s\"} 1\n",
		labelEscaper.Replace(runtime.Version()))
}

// ResidentMemory returns the process's resident memory in bytes, and whether the system
// tells it (Linux).
func ResidentMemory() (float64, bool) { return residentMemory() }
