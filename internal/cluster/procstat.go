package cluster

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// The processor time of processes and of the machine, read from /proc (Linux); 0
// elsewhere. Figures only: nothing decides on them.

// clockTick is USER_HZ, the unit of /proc's times: 100 on every Linux a Go program runs on.
const clockTick = 10 * time.Millisecond

// ProcessCPU is the processor time (user + system) process pid has used; pid 0: this one.
func ProcessCPU(pid int) time.Duration {
	p := "/proc/self/stat"
	if pid > 0 {
		p = "/proc/" + strconv.Itoa(pid) + "/stat"
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return 0
	}
	// After the command's name in parentheses (which may hold spaces): state is the
	// 3rd field, utime the 14th, stime the 15th.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * clockTick
}

// MachineCPU is the processor time all the machine's processors have spent busy (not
// idle nor waiting for I/O) since it started.
func MachineCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 7 { // guest times are already in user
			break
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * clockTick
}

// LoadAverage is the machine's load average over the last minute, as uptime prints it.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "unknown"
	}
	return f[0]
}
