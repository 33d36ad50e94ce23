// Package hubtest is for tests that start real hubs: one synthetic nation generated once
// per test binary, and each test its own copy of it, so that tests run side by side
// (t.Parallel) and none sees another's changes. Tests only (internal/arch keeps it so).
package hubtest

import (
	"context"
	"flag"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/date"
	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/synth"
)

// Nation is a synthetic nation generated at the first Copy, with its administrator.
type Nation struct {
	Prefix  string                      // of the folder it is generated in, under the temporary folder
	Seed    uint64                      // of synth.Generate
	Persons int                         // of synth.Generate
	Today   date.Date                   // of synth.Generate; zero: the day it is generated
	Config  func(dir string) hub.Config // the stores of a hub on the nation in dir
	// Prepare, when set, runs once on the generated nation's stores before it is copied
	// (a national run of the rights engine, say).
	Prepare func(ctx context.Context, cfg hub.Config, st *hub.Stores) error

	once   sync.Once
	dir    string
	admin  string
	err    error
	copies sync.Map // *testing.T → its copy
}

// Copy returns t's own copy of the nation, made at its first call in t (a hub restarted
// within the test finds what it left); t's cleanup removes it.
func (n *Nation) Copy(t *testing.T) string {
	t.Helper()
	if dir, ok := n.copies.Load(t); ok {
		return dir.(string)
	}
	n.once.Do(n.generate)
	if n.err != nil {
		t.Fatal(n.err)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(n.dir)); err != nil {
		t.Fatal(err)
	}
	n.copies.Store(t, dir)
	t.Cleanup(func() { n.copies.Delete(t) })
	return dir
}

// Admin is the nation's administrator token (empty before the first Copy).
func (n *Nation) Admin() string { return n.admin }

// Remove deletes the generated nation; TestMain calls it once the tests have run.
func (n *Nation) Remove() {
	if n.dir != "" {
		os.RemoveAll(n.dir)
	}
}

func (n *Nation) generate() {
	n.dir, n.err = os.MkdirTemp("", n.Prefix)
	if n.err != nil {
		return
	}
	if n.Today == 0 {
		n.Today = date.FromTime(time.Now())
	}
	ctx := context.Background()
	st, err := hub.Open(ctx, n.Config(n.dir))
	if err != nil {
		n.err = err
		return
	}
	defer st.Close()
	if _, err := synth.Generate(ctx, synth.Config{Seed: n.Seed, Persons: n.Persons, Today: n.Today}, st.Civil.Population(), st.Directory); err != nil {
		n.err = err
		return
	}
	if n.admin, _, n.err = st.Directory.EnsureAdmin(ctx); n.err != nil || n.Prepare == nil {
		return
	}
	n.err = n.Prepare(ctx, n.Config(n.dir), st)
}

// Parallel lets more tests run at once than one per processor, unless -test.parallel
// says otherwise: tests that start hubs spend most of their time waiting on them. Call it
// in TestMain after flag.Parse.
func Parallel() {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", strconv.Itoa(4*runtime.GOMAXPROCS(0)))
	}
}
