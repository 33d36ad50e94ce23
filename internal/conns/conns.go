// Package conns caps the connections a server holds open: so many from one remote
// address and so many in all, below the process's file limit. One client holding
// connections open (slow uploads, idle sockets, a request never finished) then cannot
// take the file descriptors that every other client, the stores and the hub's own
// outbound calls need: beyond the file limit the server could accept nothing, not even
// /healthz (#13). A connection beyond a cap is answered at once with a short HTTP
// error (429 for its address's cap, 503 for the total) and closed, rather than left
// waiting in the kernel's queue.
package conns

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Limits are the caps of a Listener. Zero turns a cap off.
type Limits struct {
	PerAddress int // connections open at once from one remote IP address
	Total      int // connections open at once in all
}

// DefaultPerAddress is the default cap of one address: far above what a client needs
// (a benchmark's 64 connections), far below what exhausts the hub. Behind a reverse
// proxy every client has the proxy's address: turn it off there (0).
const DefaultPerAddress = 256

// maxTotal bounds the default total: each open connection costs a goroutine and its
// buffers.
const maxTotal = 10_000

// reserve is what the default total leaves of the file limit to the stores, the event
// bus, the hub's outbound calls and the listener itself.
const reserve = 256

// DefaultTotal is the default total cap under a file limit of files descriptors: half of
// what the reserve leaves, at most maxTotal, at least 16; maxTotal when the limit is not
// known (0).
func DefaultTotal(files uint64) int {
	if files == 0 {
		return maxTotal
	}
	if files <= reserve+32 {
		return 16
	}
	return int(min((files-reserve)/2, maxTotal))
}

// Listen returns ln with the caps of l.
func Listen(ln net.Listener, l Limits) net.Listener {
	return &listener{Listener: ln, l: l, open: map[netip.Addr]int{}}
}

type listener struct {
	net.Listener
	l     Limits
	mu    sync.Mutex
	total int
	open  map[netip.Addr]int // by remote address, only those with connections open
}

// Accept returns the next connection within the caps; those beyond are refused here.
func (ln *listener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr := remoteAddr(c)
		if status, why := ln.take(addr); status != 0 {
			refuse(c, status, why)
			continue
		}
		return &conn{Conn: c, done: func() { ln.free(addr) }}, nil
	}
}

// take counts a connection from addr in, or says why it is refused.
func (ln *listener) take(addr netip.Addr) (status int, why string) {
	ln.mu.Lock()
	defer ln.mu.Unlock()
	if ln.l.Total > 0 && ln.total >= ln.l.Total {
		return 503, fmt.Sprintf("the hub holds %d connections, its limit; retry shortly", ln.l.Total)
	}
	if ln.l.PerAddress > 0 && ln.open[addr] >= ln.l.PerAddress {
		return 429, fmt.Sprintf("%d connections are open from your address, the limit; close some", ln.l.PerAddress)
	}
	ln.total++
	ln.open[addr]++
	return 0, ""
}

func (ln *listener) free(addr netip.Addr) {
	ln.mu.Lock()
	defer ln.mu.Unlock()
	ln.total--
	if ln.open[addr]--; ln.open[addr] <= 0 {
		delete(ln.open, addr)
	}
}

// refuse answers a connection beyond a cap and closes it. The write goes to a fresh
// connection's empty send buffer, so it does not hold up the accept loop.
func refuse(c net.Conn, status int, why string) {
	text := map[int]string{429: "Too Many Requests", 503: "Service Unavailable"}[status]
	_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s\n",
		status, text, len(why)+1, why)
	_ = c.Close()
}

// remoteAddr is c's remote IP address (IPv4 as such, not mapped); the zero Addr for a
// connection that has none (a Unix socket): all of those share one count.
func remoteAddr(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// conn is an accepted connection, counted until it is closed.
type conn struct {
	net.Conn
	once sync.Once
	done func()
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.done)
	return err
}
