package bench

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/crossroads-hub/crossroads/internal/audit"
	"github.com/crossroads-hub/crossroads/internal/sqlstore"
	"github.com/crossroads-hub/crossroads/internal/witness"
)

// WitnessOptions configure Witness.
type WitnessOptions struct {
	Binary   string        // the crossroads binary, run as `crossroads witness`
	Duration time.Duration // how long the witness follows the log
	Rate     int           // records appended to the log per second
}

// Witness measures what a witness costs: `crossroads witness` runs as a process of its
// own, following an audit log that this process appends Rate records a second to (a
// busy hub) and checkpoints every 2 s, served with the hub's routes and shapes
// (/audit/checkpoint, /audit/consistency, POST /audit/cosignatures); the witness reads
// every 2 s. Its processor time is the child's rusage (user + system) when it exits.
func Witness(ctx context.Context, o WitnessOptions) (*Result, error) {
	dir, err := os.MkdirTemp("", "crossroads-bench-witness-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	signer, err := audit.NewSigner("hub.bench.example", edKey(priv))
	if err != nil {
		return nil, err
	}
	hubKey, err := audit.VerifierKey("hub.bench.example", priv.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	w, err := witness.Open(filepath.Join(dir, "witness"), "witness.bench.example", []string{hubKey})
	if err != nil {
		return nil, err
	}
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "hub.db"), sqlstore.Hub)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	l, err := audit.Open(ctx, db.Audit(), func() (note.Signer, error) { return signer, nil },
		audit.Config{Journal: filepath.Join(dir, "hub.db-audit"), Witnesses: []string{w.VerifierKey()}})
	if err != nil {
		return nil, err
	}
	defer l.Close(context.WithoutCancel(ctx))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: logRoutes(l), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var appended atomic.Int64
	go appendAt(ctx, l, o.Rate, &appended)

	cmd := exec.Command(o.Binary, "--log-level", "warn", "witness", "--hub", "http://"+ln.Addr().String(),
		"--hub-key", hubKey, "--dir", filepath.Join(dir, "witness"), "--every", "2s")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var cosigned atomic.Int64
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "cosigned the checkpoint") {
				cosigned.Add(1)
			}
		}
	}()
	start := time.Now()
	select {
	case <-time.After(o.Duration):
	case <-ctx.Done():
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		cmd.Process.Kill()
	}
	werr := cmd.Wait()
	elapsed := time.Since(start)
	stop()
	if werr != nil {
		return nil, fmt.Errorf("the witness: %v", werr)
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	cp, _ := l.Checkpoint(context.WithoutCancel(ctx))
	var last int64
	cs, err := l.Cosignatures(context.WithoutCancel(ctx))
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		last = max(last, c.Size)
	}
	r := newResult("witness")
	r.add("seconds", "witness followed the log for", elapsed.Seconds(), "s")
	r.add("records", "records appended meanwhile", appended.Load(), "")
	r.add("cosigned", "checkpoints cosigned (one every 2 s at most)", cosigned.Load(), "")
	r.add("last_checkpoint", "the log's latest checkpoint at the end", cp.Size, "")
	r.add("last_cosigned", "the largest the hub took cosigned", last, "")
	r.add("cpu_seconds", "witness processor time (rusage, user+system)", cpu.Seconds(), "s")
	r.add("cpu_percent", "witness share of one core", 100*cpu.Seconds()/elapsed.Seconds(), "%")
	return r, nil
}

// edKey is an Ed25519 private key as an audit.Key.
type edKey ed25519.PrivateKey

func (k edKey) Sign(msg []byte) []byte { return ed25519.Sign(ed25519.PrivateKey(k), msg) }
func (k edKey) Public() ed25519.PublicKey {
	return ed25519.PrivateKey(k).Public().(ed25519.PublicKey)
}

// appendAt appends rate records a second to l until ctx ends, as exchanges do.
func appendAt(ctx context.Context, l *audit.Log, rate int, n *atomic.Int64) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	per := max(rate/100, 1)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for range per {
			i := n.Add(1)
			id := "m" + strconv.FormatInt(i, 10)
			req, resp := sha256.Sum256([]byte("request "+id)), sha256.Sum256([]byte("response "+id))
			rec := audit.Record{Client: "bench", MessageID: id, Service: "witness", Purpose: "bench", Decision: audit.Permit,
				Outcome: "answered", RequestHash: hex.EncodeToString(req[:]), ResponseHash: hex.EncodeToString(resp[:])}
			if _, err := l.Append(ctx, rec); err != nil {
				return
			}
		}
	}
}

// logRoutes serves the log's checkpoint, consistency proofs and cosignatures as the
// hub's API does (internal/httpapi/audit.go), for a witness to follow.
func logRoutes(l *audit.Log) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /audit/checkpoint", func(w http.ResponseWriter, r *http.Request) {
		cp, err := l.Checkpoint(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		cs, err := l.Cosignatures(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, map[string]any{"checkpoint": cp, "cosigned": cs})
	})
	mux.HandleFunc("GET /audit/consistency", func(w http.ResponseWriter, r *http.Request) {
		from, _ := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
		to, _ := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64)
		c, err := l.Consistency(r.Context(), from, to)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, c)
	})
	mux.HandleFunc("POST /audit/cosignatures", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err == nil {
			_, err = l.AddCosignature(r.Context(), string(b))
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, map[string]string{"status": "ok"})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
