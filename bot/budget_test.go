package bot

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sheds records the reasons a Budget reports to OnShed.
type sheds struct {
	mu      sync.Mutex
	reasons []string
}

func (s *sheds) add(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reasons = append(s.reasons, reason)
}

func (s *sheds) get() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reasons...)
}

// loop calls take until ctx ends, after pause each time, and returns how
// many tokens it got.
func loop(ctx context.Context, take func(context.Context) error, pause time.Duration) int {
	n := 0
	for take(ctx) == nil {
		n++
		if pause > 0 && !sleep(ctx, pause) {
			break
		}
	}
	return n
}

func TestBudgetShares(t *testing.T) {
	const (
		rate = 20 // per second
		span = 30 * time.Second
	)
	for _, tc := range []struct {
		name       string
		share      float64
		alertPause time.Duration // between an alert and the next; 0 always waits
		noAlerts   bool
		replyers   int
		// wantAlerts is the alerts' share of the tokens; replies get the
		// rest. Alerts that pause take what they ask for: less.
		wantAlerts float64
	}{
		{name: "alerts get half while both wait", share: 0.5, replyers: 8, wantAlerts: 0.5},
		{name: "alerts get their configured share", share: 0.8, replyers: 8, wantAlerts: 0.8},
		{name: "a small share is still guaranteed", share: 0.25, replyers: 8, wantAlerts: 0.25},
		{name: "replies get everything without alerts", share: 0.5, noAlerts: true, replyers: 8, wantAlerts: 0},
		{name: "alerts get everything without replies", share: 0.5, wantAlerts: 1},
		// An alert every 250 ms and its wait for a token is less than 4 a
		// second: replies get the other 16 and more of 20, though their
		// share is 10.
		{name: "replies get what alerts leave unused", share: 0.5, alertPause: 250 * time.Millisecond, replyers: 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := NewBudget(BudgetOptions{
					Limits:     Limits{GlobalPerSecond: rate, AlertShare: tc.share},
					ReplyQueue: 100,
				})
				ctx, cancel := context.WithTimeout(t.Context(), span)
				defer cancel()
				var wg sync.WaitGroup
				var mu sync.Mutex
				got := map[class]int{}
				count := func(c class, n int) {
					mu.Lock()
					defer mu.Unlock()
					got[c] += n
				}
				if !tc.noAlerts {
					wg.Go(func() { count(alerts, loop(ctx, b.Bulk, tc.alertPause)) })
				}
				for range tc.replyers {
					wg.Go(func() {
						count(replies, loop(ctx, func(ctx context.Context) error { return b.take(ctx, replies) }, 0))
					})
				}
				wg.Wait()
				total := rate * span.Seconds()
				// The burst of 2 and the tokens granted as the span ends.
				const slack = 3
				if tc.alertPause > 0 {
					// At most two token intervals' wait for each alert.
					asked := span.Seconds() / (tc.alertPause.Seconds() + 2.0/rate)
					if n := float64(got[alerts]); n < asked-slack || n > span.Seconds()/tc.alertPause.Seconds() {
						t.Errorf("alerts pausing %v got %v tokens in %v, want about %.0f", tc.alertPause, n, span, asked)
					}
					tc.wantAlerts = float64(got[alerts]) / total
				}
				wantReplies := 1 - tc.wantAlerts
				if tc.replyers == 0 {
					wantReplies = 0
				}
				for c, want := range map[class]float64{alerts: tc.wantAlerts, replies: wantReplies} {
					if n := float64(got[c]); n < want*total-slack || n > want*total+slack {
						t.Errorf("%v got %v tokens in %v, want %v (%.0f%% of %v/s)", []string{"alerts", "replies"}[c], n, span, want*total, want*100, rate)
					}
				}
			})
		})
	}
}

func TestReplyShedding(t *testing.T) {
	type outcome struct {
		After time.Duration // from the start
		Err   error
	}
	for _, tc := range []struct {
		name       string
		limits     Limits
		wait       time.Duration
		queue      int
		chats      []int64 // one reply into each, in this order, at the start; 0 for none known
		want       []outcome
		wantReason []string
	}{
		{
			name:   "a full queue sheds the oldest",
			limits: Limits{GlobalPerSecond: 1},
			queue:  2,
			chats:  []int64{0, 0, 0, 0, 0},
			// The burst of 2 goes at once; of the three that wait, the
			// oldest makes room for the last.
			want:       []outcome{{0, nil}, {0, nil}, {0, ErrReplyShed}, {time.Second, nil}, {2 * time.Second, nil}},
			wantReason: []string{ShedQueueFull},
		},
		{
			name:   "a reply is never sent after its wait",
			limits: Limits{GlobalPerSecond: 1},
			wait:   1500 * time.Millisecond,
			queue:  10,
			chats:  []int64{0, 0, 0, 0},
			want: []outcome{{0, nil}, {0, nil}, {time.Second, nil},
				{1500 * time.Millisecond, ErrReplyShed}},
			wantReason: []string{ShedDeadline},
		},
		{
			name:   "a group's replies keep its limit, and what cannot go in time is shed at once",
			limits: Limits{GlobalPerSecond: 30, GroupPerMinute: 20},
			chats:  []int64{-7, -7, -7, -8},
			// 3.3 s between two messages into one group (3 s and the
			// margin); the third would go at 6.6 s, after the 5 s wait.
			// Another group is not held back.
			want:       []outcome{{0, nil}, {3300 * time.Millisecond, nil}, {0, ErrReplyShed}, {0, nil}},
			wantReason: []string{ShedChatBusy},
		},
		{
			name:   "a private chat's replies keep its limit",
			limits: Limits{GlobalPerSecond: 30, ChatPerSecond: 1},
			chats:  []int64{5, 5, 6, 5},
			// A second and the margin, 1.1 s, between two messages.
			want: []outcome{{0, nil}, {1100 * time.Millisecond, nil}, {0, nil}, {2200 * time.Millisecond, nil}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var shed sheds
				b := NewBudget(BudgetOptions{Limits: tc.limits, ReplyWait: tc.wait, ReplyQueue: tc.queue, OnShed: shed.add})
				start := time.Now()
				got := make([]outcome, len(tc.chats))
				var wg sync.WaitGroup
				for i, chat := range tc.chats {
					wg.Go(func() {
						err := b.reply(t.Context(), chat, chat != 0, time.Now().Add(b.o.ReplyWait))
						got[i] = outcome{time.Since(start), err}
					})
					synctest.Wait() // queued in this order
				}
				wg.Wait()
				if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b error) bool { return errors.Is(a, b) || errors.Is(b, a) })); diff != "" {
					t.Errorf("replies (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tc.wantReason, shed.get()); diff != "" {
					t.Errorf("OnShed reasons (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestBudgetTellsGlobalThrottlingFromOneChat(t *testing.T) {
	type throttle struct {
		after time.Duration // since the previous one
		chat  int64
	}
	for _, tc := range []struct {
		name       string
		throttles  []throttle
		wantGlobal []bool
	}{
		{"one chat, again and again", []throttle{{0, 5}, {100 * time.Millisecond, 5}, {100 * time.Millisecond, 5}}, []bool{false, false, false}},
		{"two chats", []throttle{{0, 5}, {0, -6}}, []bool{false, false}},
		{"three chats within a second", []throttle{{0, 5}, {400 * time.Millisecond, -6}, {400 * time.Millisecond, 7}}, []bool{false, false, true}},
		{"three chats over two seconds", []throttle{{0, 5}, {time.Second, -6}, {time.Second, 7}}, []bool{false, false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				pauses := 0
				b := NewBudget(BudgetOptions{Limits: Limits{GlobalPerSecond: 30, ChatPerSecond: 1, GroupPerMinute: 20},
					OnPause: func() { pauses++ }})
				var got []bool
				for _, th := range tc.throttles {
					time.Sleep(th.after)
					got = append(got, b.throttled(th.chat, 3*time.Second))
				}
				if diff := cmp.Diff(tc.wantGlobal, got); diff != "" {
					t.Errorf("throttled reported global (-want +got):\n%s", diff)
				}
				global := got[len(got)-1]
				if want := map[bool]int{true: 1}[global]; pauses != want {
					t.Errorf("OnPause called %d times, want %d", pauses, want)
				}
				// A held chat takes nothing for retry_after; the others
				// are held only by a global pause.
				last := tc.throttles[len(tc.throttles)-1].chat
				if at, _ := b.lines.reserve(last, time.Now(), time.Time{}); time.Until(at) != 3*time.Second {
					t.Errorf("the throttled chat's next slot is in %v, want its retry_after, 3s", time.Until(at))
				}
				start := time.Now()
				if err := b.Bulk(t.Context()); err != nil {
					t.Fatal(err)
				}
				want := time.Duration(0)
				if global {
					want = 3 * time.Second
				}
				if waited := time.Since(start); waited != want {
					t.Errorf("an alert to another chat waited %v, want %v", waited, want)
				}
			})
		})
	}
}

// roundTrip is a fake Bot API for the transport: it records what it gets,
// and when since start, and answers what answer says.
type roundTrip struct {
	start  time.Time
	answer func(body string) (status int, answer string)

	mu  sync.Mutex
	got []sentReply
}

type sentReply struct {
	Method string
	After  time.Duration
	Body   string
}

func (rt *roundTrip) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	rt.mu.Lock()
	rt.got = append(rt.got, sentReply{Method: req.URL.Path[strings.LastIndexByte(req.URL.Path, '/')+1:],
		After: time.Since(rt.start), Body: string(body)})
	rt.mu.Unlock()
	status, answer := rt.answer(string(body))
	return &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader(answer)), Header: http.Header{}, Request: req}, nil
}

func post(t *testing.T, hc *http.Client, method, contentType string, body []byte) (int, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://telegram.test/botTOKEN/"+method, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// multipartBody is a sendPhoto as telebot uploads it: the file first, the
// chat id after it.
func multipartBody(t *testing.T, chat string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	f, err := w.CreateFormFile("photo", "chart.png")
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("\x89PNG not really"))
	w.WriteField("caption", "WhatsApp, 30 days")
	w.WriteField("chat_id", chat)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

func TestReplyTransport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var shed sheds
		b := NewBudget(BudgetOptions{Limits: Limits{GlobalPerSecond: 30, ChatPerSecond: 1, GroupPerMinute: 20}, OnShed: shed.add})
		api := &roundTrip{start: time.Now(), answer: func(body string) (int, string) {
			if strings.Contains(body, `"-100"`) {
				return http.StatusTooManyRequests, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 8","parameters":{"retry_after":8}}`
			}
			return http.StatusOK, `{"ok":true,"result":true}`
		}}
		hc := &http.Client{Transport: b.ReplyTransport(api)}
		photoType, photo := multipartBody(t, "42")
		for _, c := range []struct {
			method, contentType, body string
			want                      int
		}{
			{"sendMessage", "application/json", `{"chat_id":"42","text":"one"}`, http.StatusOK},
			// A second message into chat 42, a photo, waits a second
			// and the margin.
			{"sendPhoto", photoType, string(photo), http.StatusOK},
			// Not messages: they pass at once.
			{"answerCallbackQuery", "application/json", `{"callback_query_id":"9"}`, http.StatusOK},
			{"sendChatAction", "application/json", `{"chat_id":"42","action":"typing"}`, http.StatusOK},
			// Our own client sends ids as numbers; an edit is a message.
			{"editMessageText", "application/json", `{"chat_id":42,"message_id":1,"text":"two"}`, http.StatusOK},
			{"sendMessage", "application/json", `{"chat_id":"-100","text":"three"}`, http.StatusTooManyRequests},
		} {
			code, err := post(t, hc, c.method, c.contentType, []byte(c.body))
			if err != nil || code != c.want {
				t.Fatalf("%s: %d, %v; want %d", c.method, code, err, c.want)
			}
		}
		// The 429 holds group -100 for 8 s, longer than a reply may wait.
		if _, err := post(t, hc, "sendMessage", "application/json", []byte(`{"chat_id":"-100","text":"four"}`)); !errors.Is(err, ErrReplyShed) {
			t.Errorf("a reply into a group held for 8 s: %v, want ErrReplyShed", err)
		}
		want := []sentReply{
			{"sendMessage", 0, `{"chat_id":"42","text":"one"}`},
			{"sendPhoto", 1100 * time.Millisecond, string(photo)},
			{"answerCallbackQuery", 1100 * time.Millisecond, `{"callback_query_id":"9"}`},
			{"sendChatAction", 1100 * time.Millisecond, `{"chat_id":"42","action":"typing"}`},
			{"editMessageText", 2200 * time.Millisecond, `{"chat_id":42,"message_id":1,"text":"two"}`},
			{"sendMessage", 2200 * time.Millisecond, `{"chat_id":"-100","text":"three"}`},
		}
		if diff := cmp.Diff(want, api.got); diff != "" {
			t.Errorf("calls that reached Telegram (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{ShedChatBusy}, shed.get()); diff != "" {
			t.Errorf("OnShed reasons (-want +got):\n%s", diff)
		}
	})
}

func TestChatID(t *testing.T) {
	photoType, photo := multipartBody(t, "-1001234")
	for _, tc := range []struct {
		name, contentType, body string
		want                    int64
		known                   bool
	}{
		{"telebot's string", "application/json", `{"chat_id":"42","text":"hi"}`, 42, true},
		{"a number", "application/json", `{"text":"hi","chat_id":-1005}`, -1005, true},
		{"a channel's name", "application/json", `{"chat_id":"@outages"}`, 0, false},
		{"none", "application/json", `{"text":"hi"}`, 0, false},
		{"not JSON", "application/json", `chat_id=42`, 0, false},
		{"multipart upload", photoType, string(photo), -1001234, true},
		{"multipart without a boundary", "multipart/form-data", string(photo), 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, known := chatID(tc.contentType, []byte(tc.body))
			if got != tc.want || known != tc.known {
				t.Errorf("chatID = %d, %v; want %d, %v", got, known, tc.want, tc.known)
			}
		})
	}
}
