//go:build !unix

package bench

import "time"

// processCPU is 0 where getrusage is missing (Windows): the benchmarks then report no
// processor time per request, only rates and latencies.
func processCPU() time.Duration { return 0 }
