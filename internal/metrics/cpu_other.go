//go:build !unix

package metrics

import "time"

// ProcessCPU is 0 where getrusage is missing (Windows): process_cpu_seconds_total is
// then left out, and the benchmarks report no processor time per request.
func ProcessCPU() time.Duration { return 0 }
