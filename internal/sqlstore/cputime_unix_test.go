//go:build unix

package sqlstore_test

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time the process has used, user and system. Benchmarks report
// it per operation because wall-clock rates on a shared machine say more about the
// neighbours than about the code.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
