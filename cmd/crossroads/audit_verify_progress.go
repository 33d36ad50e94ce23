package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crossroads-hub/crossroads/internal/hub"
	"github.com/crossroads-hub/crossroads/internal/perm"
)

// verifyProgress reports audit verify's progress: a progress bar on a terminal,
// otherwise (a log file, a pipe, a scheduler's capture) a structured line every
// every, and one at the end.
type verifyProgress struct {
	bar   *progress
	log   *slog.Logger
	every time.Duration
	start time.Time // of the first report, whose records the rate leaves out
	last  time.Time
	first int64 // records at the first report; -1 before it
}

func newVerifyProgress(w io.Writer) *verifyProgress {
	p := &verifyProgress{every: 5 * time.Second, first: -1}
	if isTerminal(w) {
		p.bar = newProgress(w)
	} else {
		p.log = slog.New(slog.NewTextHandler(w, nil))
	}
	return p
}

func (p *verifyProgress) update(done, total int64) {
	if p.bar != nil {
		p.bar.update("records", int(done), int(total))
		return
	}
	now := time.Now()
	if p.first < 0 {
		p.first, p.start, p.last = done, now, now
	}
	if now.Sub(p.last) >= p.every || done == total {
		p.last = now
		p.log.Info("audit verify", "records", done, "of", total,
			"percent", fmt.Sprintf("%.1f", 100*float64(done)/float64(max(total, 1))),
			"per_second", int64(float64(done-p.first)/max(now.Sub(p.start).Seconds(), 1e-3)))
	}
}

func (p *verifyProgress) finish() {
	if p.bar != nil {
		p.bar.finish()
	}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// verifiedPath is where audit verify remembers the last checkpoint it verified, for
// --resume: beside the published checkpoint ("" when there is no such place).
func verifiedPath(store, keys string) string {
	p := hub.AuditPublished(store, keys)
	if p == "" {
		return ""
	}
	return strings.TrimSuffix(p, "-checkpoint") + "-verified"
}

// resumeFrom returns the checkpoint note to resume after: the file given, or with
// resume the one remembered ("" if none yet).
func (c *AuditVerifyCmd) resumeFrom() (string, error) {
	path := c.FromCheckpoint
	if path == "" && c.Resume {
		path = verifiedPath(c.Store, c.Keys)
		if _, err := os.Stat(path); os.IsNotExist(err) {
			return "", nil
		}
	}
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("the checkpoint to resume from: %w", err)
	}
	return string(b), nil
}

// remember keeps the last checkpoint verified, for the next --resume.
func (c *AuditVerifyCmd) remember(note string) error {
	path := verifiedPath(c.Store, c.Keys)
	if path == "" || note == "" {
		return nil
	}
	if _, err := os.Stat(filepath.Dir(path)); os.IsNotExist(err) {
		// No folder beside the key file (a PostgreSQL store verified with --verifier-key
		// only): the log verified all the same; nothing is remembered for --resume.
		return nil
	}
	return perm.Replace(path, []byte(note))
}
