package main

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress draws one bar per stage of long work ("persons", "person directory", …).
//
// The rate is its own, shown once a stage has run a second: the library's rate is
// measured from the first frame on, which gave absurd figures at the start
// ("166625423 items/s", "0 items/hr").
type progress struct {
	w        io.Writer
	now      func() time.Time
	throttle time.Duration // between two frames
	stage    string
	start    time.Time
	total    int
	bar      *progressbar.ProgressBar
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, now: time.Now, throttle: 200 * time.Millisecond}
}

// update is the callback long work reports to.
func (p *progress) update(stage string, done, total int) {
	if stage != p.stage || p.bar == nil {
		p.finish()
		p.stage, p.start = stage, p.now()
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(stage),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(p.throttle),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionOnCompletion(func() { io.WriteString(p.w, "\n") }),
		)
	}
	p.total = total
	_ = p.bar.Set(done)
	p.describe(done)
}

// describe adds the stage's rate to its name once it has run a second.
func (p *progress) describe(done int) {
	if elapsed := p.now().Sub(p.start); elapsed >= time.Second && done > 0 {
		p.bar.Describe(fmt.Sprintf("%s (%.0f/s)", p.stage, float64(done)/elapsed.Seconds()))
	}
}

func (p *progress) finish() {
	if p.bar != nil && !p.bar.IsFinished() {
		p.describe(p.total)
		_ = p.bar.Finish()
	}
	p.bar = nil
}
