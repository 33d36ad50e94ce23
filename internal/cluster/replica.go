package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Replica is one `crossroads serve` process, started, stopped and started again on the
// same address; its log (JSON) is kept in memory.
type Replica struct {
	Name string
	Bin  string   // the crossroads binary
	Args []string // after the binary: --log-level … serve …, without --addr
	Addr string   // host:port it listens on

	Log *Buffer
	// LogFile, when set, receives the log too (appended across restarts), for an
	// operator to read: the demo's replicas' refusals and warnings.
	LogFile string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	cpu     time.Duration // processor time of the runs that ended
	started time.Time
}

// URL is the replica's base URL.
func (r *Replica) URL() string { return "http://" + r.Addr }

// Start starts the process and waits until /readyz answers 200, or it exits, or ctx ends.
func (r *Replica) Start(ctx context.Context) error {
	r.mu.Lock()
	if r.cmd != nil {
		r.mu.Unlock()
		return fmt.Errorf("replica %s: already running", r.Name)
	}
	if r.Log == nil {
		r.Log = &Buffer{}
	}
	cmd := exec.Command(r.Bin, append(append([]string(nil), r.Args...), "--addr", r.Addr)...)
	cmd.Stdout, cmd.Stderr = nil, r.Log
	var file *os.File
	if r.LogFile != "" {
		f, err := os.OpenFile(r.LogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			r.mu.Unlock()
			return fmt.Errorf("replica %s: %w", r.Name, err)
		}
		file, cmd.Stderr = f, io.MultiWriter(r.Log, f)
	}
	if err := cmd.Start(); err != nil {
		r.mu.Unlock()
		if file != nil {
			file.Close()
		}
		return fmt.Errorf("replica %s: %w", r.Name, err)
	}
	exited := make(chan struct{})
	r.cmd, r.exited, r.started = cmd, exited, time.Now()
	r.mu.Unlock()
	go func() {
		err := cmd.Wait() // the only Wait of this run
		if file != nil {
			file.Close()
		}
		r.mu.Lock()
		if cmd.ProcessState != nil {
			r.cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		r.waitErr = err
		r.cmd = nil
		r.mu.Unlock()
		close(exited)
	}()
	return r.waitReady(ctx, exited)
}

func (r *Replica) waitReady(ctx context.Context, exited chan struct{}) error {
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := c.Get(r.URL() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("replica %s exited before it was ready: %v; its log:\n%s", r.Name, r.waitErr, r.Log.Tail(3000))
		case <-ctx.Done():
			return fmt.Errorf("replica %s not ready: %w", r.Name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Running reports whether the process runs.
func (r *Replica) Running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cmd != nil
}

// Kill kills the process (SIGKILL: no shutdown at all) and waits for it.
func (r *Replica) Kill() { r.signal(syscall.SIGKILL) }

// Stop asks the process to stop (SIGTERM: it stops accepting, finishes the requests in
// flight, closes its audit log) and waits for it.
func (r *Replica) Stop() { r.signal(syscall.SIGTERM) }

func (r *Replica) signal(sig syscall.Signal) {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	<-exited
}

// CPU is the processor time the replica has used: its runs that ended, and the one that
// runs (read from /proc on Linux).
func (r *Replica) CPU() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	cpu := r.cpu
	if r.cmd != nil && r.cmd.Process != nil {
		cpu += ProcessCPU(r.cmd.Process.Pid)
	}
	return cpu
}

// FreeAddr returns a 127.0.0.1 address that was free a moment ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Buffer is a log a process writes while others read it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String is the whole log.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Tail is the log's last n bytes at most.
func (b *Buffer) Tail(n int) string {
	s := b.String()
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
