package main

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/ops"
)

// supervisor restarts the bot's long-running parts (the poller, the sender,
// the probe rounds) when they panic. One panic would otherwise end the
// process, and with it the parts that still worked; a restart by systemd or
// Docker would start everything again only to meet the same panic.
type supervisor struct {
	log *slog.Logger
	// panicked hears which part panicked: ops.Console.Panicked, which
	// fails the health check.
	panicked func(ops.Part)
	// The wait before a restart doubles with each panic in a row, from
	// minWait to maxWait, and starts again from minWait after a run that
	// lasted longer than maxWait.
	minWait, maxWait time.Duration
}

func newSupervisor(log *slog.Logger, panicked func(ops.Part)) supervisor {
	return supervisor{log: log, panicked: panicked, minWait: time.Second, maxWait: time.Minute}
}

// run calls fn until it returns without panicking or done is closed. Each
// panic is logged with the part and its stack, and reported to panicked.
func (s supervisor) run(done <-chan struct{}, part ops.Part, fn func()) {
	wait := s.minWait
	for {
		began := time.Now()
		value, stack, panicked := call(fn)
		if !panicked {
			return
		}
		if time.Since(began) > s.maxWait {
			wait = s.minWait
		}
		s.log.Error("a part of the bot panicked; restarting it", "part", part.String(),
			"panic", fmt.Sprint(value), "retry_in", wait, "stack", string(stack))
		s.panicked(part)
		t := time.NewTimer(wait)
		select {
		case <-done:
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, s.maxWait)
	}
}

// call calls fn and returns what it panicked with, if it did.
func call(fn func()) (value any, stack []byte, panicked bool) {
	defer func() {
		if value = recover(); value != nil {
			stack, panicked = debug.Stack(), true
		}
	}()
	fn()
	return nil, nil, false
}

// supervisedPoller is a tele.Poller that sup restarts when it panics.
type supervisedPoller struct {
	tele.Poller
	sup supervisor
}

func (p supervisedPoller) Poll(b *tele.Bot, dest chan tele.Update, stop chan struct{}) {
	p.sup.run(stop, ops.Poller, func() { p.Poller.Poll(b, dest, stop) })
}
