package bot

import (
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/checks"
)

func TestPollerOnPoll(t *testing.T) {
	srv := bottest.NewServer(testToken)
	defer srv.Close()
	srv.Fail("getUpdates", bottest.Fault{Code: 502})
	srv.SendText(dmAnn, ann, "/status")

	polls := make(chan error, 10)
	p := &Poller{
		Client:     NewClient(srv.URL, NewHTTPClient(testToken, 5*time.Second)),
		Inbox:      newMemInbox(),
		Log:        slog.New(slog.DiscardHandler),
		Timeout:    time.Second,
		MinBackoff: time.Millisecond,
		MaxBackoff: time.Millisecond,
		OnPoll:     func(err error) { polls <- err },
	}
	b, texts := received(t)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { p.Poll(b, nil, stop); close(done) }()
	defer func() { close(stop); <-done }()

	ctx := waitCtx(t)
	var got []error
	for len(got) < 2 {
		select {
		case err := <-polls:
			got = append(got, err)
		case <-ctx.Done():
			t.Fatalf("OnPoll called %d times, want 2", len(got))
		}
	}
	var ae *APIError
	if !errors.As(got[0], &ae) || ae.Code != 502 {
		t.Errorf("first OnPoll got %v, want the 502", got[0])
	}
	if got[1] != nil {
		t.Errorf("second OnPoll got %v, want nil after a successful getUpdates", got[1])
	}
	if got := receive(t, texts, 1)[0]; got != "/status" {
		t.Errorf("update handled = %q, want the /status message", got)
	}
}

func TestSenderHooks(t *testing.T) {
	f := newFixture(t, "", 1, 2, -100)
	f.srv.BlockChat(2)
	sends := make(chan string, 10)
	dispatches := make(chan struct{}, 100)
	f.sender.o.OnSend = func(outcome string) { sends <- outcome }
	f.sender.o.OnDispatch = func() {
		select {
		case dispatches <- struct{}{}:
		default:
		}
	}
	f.commit(t, checks.Operational, checks.Down)
	f.start(t)

	ctx := waitCtx(t)
	var got []string
	for len(got) < 3 {
		select {
		case o := <-sends:
			got = append(got, o)
		case <-ctx.Done():
			t.Fatalf("OnSend got %q, want 3 outcomes", got)
		}
	}
	slices.Sort(got)
	if diff := cmp.Diff([]string{"chat_gone", "sent", "sent"}, got); diff != "" {
		t.Errorf("OnSend outcomes (-want +got):\n%s", diff)
	}
	if len(dispatches) == 0 {
		t.Error("OnDispatch was never called")
	}
}

func TestOutcomeNames(t *testing.T) {
	// Every outcome has a name of its own: they become metric labels.
	seen := map[string]outcome{}
	for o := delivered; o <= transient; o++ {
		name := o.String()
		if prev, dup := seen[name]; dup || name == "" {
			t.Errorf("outcome %d is named %q, like outcome %d", o, name, prev)
		}
		seen[name] = o
	}
}
