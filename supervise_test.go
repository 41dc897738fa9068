package main

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/ops"
)

// supervised runs fn under a supervisor in a synctest bubble and returns
// when each run of fn began, relative to the first, the parts reported as
// panicked, and the log.
func supervised(t *testing.T, done <-chan struct{}, fn func(run int)) (starts []time.Duration, panicked []ops.Part, log string) {
	t.Helper()
	var logs strings.Builder
	sup := newSupervisor(slog.New(slog.NewTextHandler(&logs, nil)), func(p ops.Part) { panicked = append(panicked, p) })
	began := time.Now()
	sup.run(done, ops.Sender, func() {
		starts = append(starts, time.Since(began))
		fn(len(starts))
	})
	return starts, panicked, logs.String()
}

func TestSupervisorRestartsAPanickingPartWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		starts, panicked, log := supervised(t, make(chan struct{}), func(run int) {
			switch run {
			case 1, 2, 3:
				panic(fmt.Sprintf("boom %d", run))
			case 4:
				// A long healthy run: the next wait starts over.
				time.Sleep(2 * time.Minute)
				panic("boom 4")
			}
		})
		want := []time.Duration{0, time.Second, 3 * time.Second, 7 * time.Second, 7*time.Second + 2*time.Minute + time.Second}
		if diff := cmp.Diff(want, starts); diff != "" {
			t.Errorf("runs began at (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]ops.Part{ops.Sender, ops.Sender, ops.Sender, ops.Sender}, panicked); diff != "" {
			t.Errorf("parts reported (-want +got):\n%s", diff)
		}
		for _, want := range []string{"part=sender", `panic="boom 3"`, "retry_in=4s", "supervise_test.go"} {
			if !strings.Contains(log, want) {
				t.Errorf("log lacks %q:\n%s", want, log)
			}
		}
	})
}

func TestSupervisorStopsWaitingWhenDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		done := make(chan struct{})
		starts, panicked, _ := supervised(t, done, func(int) {
			close(done) // the bot stops while the part panics
			panic("boom")
		})
		if len(starts) != 1 || len(panicked) != 1 {
			t.Errorf("%d runs and %d panics after the stop, want 1 and 1", len(starts), len(panicked))
		}
	})
}
