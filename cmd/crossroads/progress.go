package main

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress draws one bar per stage of long work ("persons", "person directory", …).
type progress struct {
	w     io.Writer
	stage string
	bar   *progressbar.ProgressBar
}

func newProgress(w io.Writer) *progress { return &progress{w: w} }

// update is the callback long work reports to.
func (p *progress) update(stage string, done, total int) {
	if stage != p.stage || p.bar == nil {
		p.finish()
		p.stage = stage
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(stage),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("items"),
			progressbar.OptionOnCompletion(func() { io.WriteString(p.w, "\n") }),
		)
	}
	_ = p.bar.Set(done)
}

func (p *progress) finish() {
	if p.bar != nil && !p.bar.IsFinished() {
		_ = p.bar.Finish()
	}
	p.bar = nil
}
