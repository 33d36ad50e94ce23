package testwait_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crossroads-hub/crossroads/internal/testwait"
)

func TestUntilReturnsOnceTheConditionHolds(t *testing.T) {
	var calls atomic.Int32
	err := testwait.Until(time.Minute, func() error {
		if n := calls.Add(1); n < 3 {
			return fmt.Errorf("call %d", n)
		}
		return nil
	})
	if err != nil || calls.Load() != 3 {
		t.Errorf("Until = %v after %d calls; want nil after 3", err, calls.Load())
	}
}

func TestUntilGivesTheLastError(t *testing.T) {
	var calls atomic.Int32
	err := testwait.Until(20*time.Millisecond, func() error { return fmt.Errorf("call %d", calls.Add(1)) })
	if want := fmt.Sprintf("call %d", calls.Load()); err == nil || err.Error() != want {
		t.Errorf("Until = %v; want the last error, %q", err, want)
	}
	if calls.Load() < 2 {
		t.Errorf("the condition was called %d times; want it polled", calls.Load())
	}
}

func TestUntilCallsAtLeastOnce(t *testing.T) {
	called := false
	if err := testwait.Until(0, func() error { called = true; return nil }); err != nil || !called {
		t.Errorf("Until(0) = %v, called %v; want nil, true", err, called)
	}
}

func TestTrue(t *testing.T) {
	if err := testwait.True("the copy", func() bool { return false })(); err == nil || !strings.Contains(err.Error(), "the copy") {
		t.Errorf("True(false) = %v; want an error naming what was awaited", err)
	}
	if err := testwait.True("the copy", func() bool { return true })(); err != nil {
		t.Errorf("True(true) = %v; want nil", err)
	}
}

// TestForFails runs For in a test of its own that must fail, with the condition's error.
func TestForFails(t *testing.T) {
	ft := &fakeT{TB: t}
	done := make(chan struct{})
	go func() { // Fatalf ends the goroutine, as it ends a test
		defer close(done)
		testwait.For(ft, 10*time.Millisecond, func() error { return errors.New("the batch to start") })
	}()
	<-done
	if !strings.Contains(ft.failed, "the batch to start") {
		t.Errorf("For failed with %q; want the condition's error", ft.failed)
	}
}

// fakeT records a failure instead of failing the test.
type fakeT struct {
	testing.TB
	failed string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
