package bottest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFaultBodies(t *testing.T) {
	tests := []struct {
		name       string
		fault      Fault
		wantStatus int
		wantBody   string
	}{
		{
			"flood",
			Fault{Code: 429, RetryAfter: 3},
			429, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}`,
		},
		{
			"migration",
			Fault{Code: 400, Description: "Bad Request: group chat was upgraded to a supergroup chat", MigrateTo: -1001234567890},
			400, `{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234567890}}`,
		},
		{
			"blocked",
			Fault{Code: 403, Description: "Forbidden: bot was blocked by the user"},
			403, `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`,
		},
		{
			"gateway with default description",
			Fault{Code: 502},
			502, `{"ok":false,"error_code":502,"description":"Bad Gateway"}`,
		},
		{
			"slow success",
			Fault{Delay: time.Millisecond},
			200, "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			s.Fail("sendMessage", tt.fault)
			status, body, err := post(t.Context(), s, "sendMessage", `{"chat_id":1,"text":"x"}`)
			if err != nil {
				t.Fatal(err)
			}
			if status != tt.wantStatus || tt.wantBody != "" && string(body) != tt.wantBody {
				t.Errorf("faulted call = %d %s, want %d %s", status, body, tt.wantStatus, tt.wantBody)
			}
			if r := call(t, s, "sendMessage", `{"chat_id":1,"text":"x"}`); !r.OK {
				t.Errorf("second call = %d %s, want success: a fault is used once", r.Status, r.Description)
			}
		})
	}
}

func TestFaultMatching(t *testing.T) {
	type request struct {
		method string
		chat   int64
	}
	tests := []struct {
		name   string
		setup  func(s *Server)
		calls  []request
		status []int
	}{
		{
			"FIFO per method",
			func(s *Server) {
				s.Fail("getMe", Fault{Code: 500})
				s.Fail("getMe", Fault{Code: 502})
			},
			[]request{{"sendMessage", 1}, {"getMe", 0}, {"getMe", 0}, {"getMe", 0}},
			[]int{200, 500, 502, 200},
		},
		{
			"any method and method names ignore case",
			func(s *Server) {
				s.Fail("", Fault{Code: 503})
				s.Fail("SENDMESSAGE", Fault{Code: 504})
			},
			[]request{{"sendMessage", 1}, {"sendMessage", 1}, {"sendMessage", 1}},
			[]int{503, 504, 200},
		},
		{
			"chat filter skips calls to other chats",
			func(s *Server) {
				s.Fail("sendMessage", Fault{Code: 403, ChatID: 7})
				s.Fail("", Fault{Code: 502})
			},
			[]request{{"getMe", 0}, {"sendMessage", 8}, {"sendMessage", 7}, {"sendMessage", 7}},
			[]int{502, 200, 403, 200},
		},
		{
			"always until cleared, queued first",
			func(s *Server) {
				s.FailAlways("sendMessage", Fault{Code: 500})
				s.Fail("sendMessage", Fault{Code: 429, RetryAfter: 1})
			},
			[]request{{"sendMessage", 1}, {"sendMessage", 1}, {"sendMessage", 1}, {"getMe", 0}},
			[]int{429, 500, 500, 200},
		},
		{
			"block chat",
			func(s *Server) { s.BlockChat(7) },
			[]request{{"sendMessage", 7}, {"sendMessage", 8}, {"editMessageText", 7}},
			[]int{403, 200, 403},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			tt.setup(s)
			var got []int
			for _, c := range tt.calls {
				body := "null"
				if c.chat != 0 {
					body = fmt.Sprintf(`{"chat_id":%d,"message_id":1,"text":"x"}`, c.chat)
				}
				got = append(got, call(t, s, c.method, body).Status)
			}
			if diff := cmp.Diff(tt.status, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClearFaults(t *testing.T) {
	s := newServer(t)
	s.FailAlways("", Fault{Code: 500})
	s.Fail("", Fault{Code: 502})
	s.ClearFaults()
	if r := call(t, s, "getMe", "null"); !r.OK {
		t.Errorf("getMe after ClearFaults = %d, want success", r.Status)
	}
}

func TestBlockChatDescription(t *testing.T) {
	s := newServer(t)
	s.BlockChat(7)
	r := call(t, s, "sendMessage", `{"chat_id":"7","text":"x"}`)
	if r.Status != 403 || r.Description != "Forbidden: bot was blocked by the user" {
		t.Errorf("send to a blocked chat = %d %q", r.Status, r.Description)
	}
}

func TestFaultCloseConn(t *testing.T) {
	s := newServer(t)
	s.Fail("getMe", Fault{CloseConn: true})
	_, _, err := post(t.Context(), s, "getMe", "null")
	if err == nil {
		t.Fatal("call with CloseConn succeeded, want a network error")
	}
	if r := call(t, s, "getMe", "null"); !r.OK {
		t.Errorf("next call = %d, want success", r.Status)
	}
}

func TestFaultDelayHonoursCancellation(t *testing.T) {
	s := newServer(t)
	s.Fail("getMe", Fault{Code: 500, Delay: time.Hour})
	ctx, cancel := context.WithCancel(bounded(t))
	done := make(chan error, 1)
	go func() {
		_, _, err := post(ctx, s, "getMe", "null")
		done <- err
	}()
	if err := s.Wait(bounded(t), func(s *Server) bool { return len(s.Calls("getMe")) == 1 }); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("delayed call returned %v, want context.Canceled", err)
	}
	// The hour-long delay must not hold Close (and goleak) up.
}

func TestLimits(t *testing.T) {
	type send struct {
		advance time.Duration
		chat    int64
		want    int
	}
	tests := []struct {
		name        string
		limits      Limits
		sends       []send
		wantRetry   int
		want429s    int
		wantRecords int
	}{
		{
			"global",
			Limits{Global: 2},
			[]send{{0, 1, 200}, {0, 2, 200}, {0, 3, 429}, {500 * time.Millisecond, 3, 200}, {0, 4, 429}, {time.Minute, 4, 200}},
			1, 2, 4,
		},
		{
			"per private chat",
			Limits{PerChat: 1, RetryAfter: 5},
			[]send{{0, 1, 200}, {0, 1, 429}, {0, 2, 200}, {999 * time.Millisecond, 1, 429}, {2 * time.Millisecond, 1, 200}},
			5, 2, 3,
		},
		{
			"per group per minute",
			Limits{PerGroupPerMinute: 2, PerChat: 100},
			[]send{{0, -5, 200}, {0, -5, 200}, {0, -5, 429}, {0, -6, 200}, {29 * time.Second, -5, 429}, {2 * time.Second, -5, 200}},
			1, 2, 4,
		},
		{
			"a group's burst",
			Limits{PerGroupPerMinute: 20, GroupBurst: 1},
			[]send{{0, -5, 200}, {0, -5, 429}, {2999 * time.Millisecond, -5, 429}, {time.Millisecond, -5, 200}},
			1, 2, 2,
		},
		{
			"groups are not private chats",
			Limits{PerChat: 1},
			[]send{{0, -5, 200}, {0, -5, 200}, {0, -5, 200}},
			0, 0, 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			clock := withClock(s)
			s.SetLimits(tt.limits)
			var got []int
			for _, snd := range tt.sends {
				clock.Advance(snd.advance)
				r := call(t, s, "sendMessage", fmt.Sprintf(`{"chat_id":%d,"text":"x"}`, snd.chat))
				got = append(got, r.Status)
				if r.Status == 429 {
					want := fmt.Sprintf("Too Many Requests: retry after %d", tt.wantRetry)
					if r.Description != want || r.Parameters == nil || r.Parameters.RetryAfter != tt.wantRetry {
						t.Errorf("429 = %q %+v, want %q with retry_after %d", r.Description, r.Parameters, want, tt.wantRetry)
					}
				}
			}
			var want []int
			for _, snd := range tt.sends {
				want = append(want, snd.want)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if n := s.TooManyRequests(); n != tt.want429s {
				t.Errorf("TooManyRequests() = %d, want %d", n, tt.want429s)
			}
			if n := len(s.Messages()); n != tt.wantRecords {
				t.Errorf("%d messages recorded, want %d: refused sends are not messages", n, tt.wantRecords)
			}
		})
	}
}

func TestLimitsCountEditsAndReset(t *testing.T) {
	s := newServer(t)
	withClock(s)
	s.SetLimits(Limits{PerChat: 1})
	call(t, s, "sendMessage", `{"chat_id":1,"text":"x"}`)
	if r := call(t, s, "editMessageText", `{"chat_id":1,"message_id":1,"text":"y"}`); r.Status != 429 {
		t.Errorf("edit right after a send = %d, want 429", r.Status)
	}
	s.SetLimits(Limits{})
	if r := call(t, s, "editMessageText", `{"chat_id":1,"message_id":1,"text":"y"}`); !r.OK {
		t.Errorf("edit with limits lifted = %d %s, want success", r.Status, r.Description)
	}
	s.Fail("getMe", Fault{Code: 429})
	call(t, s, "getMe", "null")
	if n := s.TooManyRequests(); n != 2 {
		t.Errorf("TooManyRequests() = %d, want 2 (one from the limit, one injected)", n)
	}
}

func TestThrottledTellsTheLimits(t *testing.T) {
	s := newServer(t)
	withClock(s)
	s.SetLimits(Limits{Global: 3, PerChat: 1, PerGroupPerMinute: 20, GroupBurst: 1})
	for _, chat := range []int64{1, 1, -5, -5, 2, 3} {
		call(t, s, "sendMessage", fmt.Sprintf(`{"chat_id":%d,"text":"x"}`, chat))
	}
	s.Fail("sendMessage", Fault{Code: 429, RetryAfter: 3})
	call(t, s, "sendMessage", `{"chat_id":4,"text":"x"}`)
	// 1 and -5 pass; the second 1 hits the chat's limit, the second -5 the
	// group's; 2 takes the last global token, and 3 finds none.
	want := Throttles{Global: 1, Chat: 1, Group: 1, Fault: 1}
	if diff := cmp.Diff(want, s.Throttled()); diff != "" {
		t.Errorf("Throttled() (-want +got):\n%s", diff)
	}
	if n := s.TooManyRequests(); n != 4 {
		t.Errorf("TooManyRequests() = %d, want 4", n)
	}
}

func TestCloseDropsDelayedCalls(t *testing.T) {
	s := newServer(t)
	s.Fail("getMe", Fault{Delay: time.Hour})
	done := make(chan error, 1)
	go func() {
		_, _, err := post(bounded(t), s, "getMe", "null")
		done <- err
	}()
	if err := s.Wait(bounded(t), func(s *Server) bool { return len(s.Calls("getMe")) == 1 }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := <-done; err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("call delayed past Close returned %v, want a prompt network error", err)
	}
}
