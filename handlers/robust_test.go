package handlers_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/handlers"
)

// checkNoPanic fails the test if a handler panicked, unless the test made
// one panic on purpose: Recover keeps the bot alive, but a panic is a bug
// all the same.
func (e *env) checkNoPanic() {
	if !e.panics && strings.Contains(e.log.String(), "handler panicked") {
		e.t.Errorf("a handler panicked:\n%s", e.log)
	}
}

// push queues a raw update, hands it to the bot and returns the messages the
// bot sent and the texts of the callback answers it gave meanwhile.
func (e *env) push(u map[string]any) (msgs []bottest.Message, answers []string) {
	e.t.Helper()
	beforeMsgs, beforeAnswers := len(e.srv.Messages()), len(e.srv.Calls("answerCallbackQuery"))
	e.srv.PushUpdate(u)
	e.deliver()
	for _, a := range e.srv.Calls("answerCallbackQuery")[beforeAnswers:] {
		answers = append(answers, a.Param("text"))
	}
	return e.srv.Messages()[beforeMsgs:], answers
}

// rawMessage is a message update from from (omitted when nil) in chat
// (omitted when nil), with extra fields added.
func rawMessage(chat *bottest.Chat, from *bottest.User, text string, extra map[string]any) map[string]any {
	m := map[string]any{"message_id": 900, "date": testNow().Unix(), "text": text}
	if chat != nil {
		m["chat"] = *chat
	}
	if from != nil {
		m["from"] = *from
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestBadAndOddUpdates(t *testing.T) {
	otherBot := bottest.User{ID: 777000, IsBot: true, FirstName: "Spam", Username: "spam_bot"}
	huge := strings.Repeat("x", 100<<10)
	var names string // 100 KB of distinct names that match no service
	for i := 0; len(names) < 100<<10; i++ {
		names += fmt.Sprintf("<n%d&>, ", i)
	}
	for _, tc := range []struct {
		name    string
		update  map[string]any
		replies []string // plain texts, or a prefix of them ending in "…"
		answers []string
	}{
		{
			name:    "a 100 KB command",
			update:  map[string]any{"message": rawMessage(new(group()), new(alice()), "/status "+huge, nil)},
			replies: []string{"❓ I don't know “xxxxx…"},
		},
		{
			name:    "a 100 KB list of names",
			update:  map[string]any{"message": rawMessage(new(aliceChat()), new(alice()), "/subscribe "+names, nil)},
			replies: []string{"❓ I don't know “<n0&>”.\n❓ I don't know “<n1&>”.…"},
		},
		{
			name:   "a 100 KB text that is no command",
			update: map[string]any{"message": rawMessage(new(aliceChat()), new(alice()), huge, nil)},
		},
		{
			name: "entities out of range",
			update: map[string]any{"message": rawMessage(new(aliceChat()), new(alice()), "/help", map[string]any{
				"entities": []map[string]any{
					{"type": "bot_command", "offset": -3, "length": 9000},
					{"type": "bold", "offset": 4000, "length": 5},
					{"type": "text_link", "offset": 2, "length": 1},
				},
			})},
			replies: []string{"Commands\n/status: how every service is doing…"},
		},
		{
			name:   "a command in a channel post",
			update: map[string]any{"channel_post": rawMessage(new(channel()), nil, "/subscribe wa", map[string]any{"sender_chat": channel()})},
		},
		{
			name:   "an edited command",
			update: map[string]any{"edited_message": rawMessage(new(aliceChat()), new(alice()), "/subscribe wa", map[string]any{"edit_date": testNow().Unix()})},
		},
		{
			name:   "a command from another bot",
			update: map[string]any{"message": rawMessage(new(group()), &otherBot, "/subscribe@outage_test_bot wa", nil)},
		},
		{
			name:   "a report from another bot",
			update: map[string]any{"message": rawMessage(new(supergroup()), &otherBot, "/report wa", nil)},
		},
		{
			name: "a press by another bot",
			update: map[string]any{"callback_query": map[string]any{
				"id": "b1", "from": otherBot, "chat_instance": "1", "data": "\faff|whatsapp",
				"message": rawMessage(new(group()), nil, "", nil),
			}},
		},
		{
			name:   "the anonymous admins' placeholder without sender chat",
			update: map[string]any{"message": rawMessage(new(supergroup()), new(anonymousAdmin()), "/subscribe wa", nil)},
		},
		{
			name:    "a message without from",
			update:  map[string]any{"message": rawMessage(new(group()), nil, "/subscribe wa", nil)},
			replies: []string{"Only group admins can change what this group follows."},
		},
		{
			name:   "a message without chat",
			update: map[string]any{"message": rawMessage(nil, new(alice()), "/subscribe wa", nil)},
		},
		{
			name: "a press under an inline message",
			update: map[string]any{"callback_query": map[string]any{
				"id": "i1", "from": alice(), "inline_message_id": "AAA", "chat_instance": "1", "data": "\ftog|whatsapp",
			}},
			answers: []string{"This button is out of date. Send /subscribe for a fresh list."},
		},
		{
			name: "a language press under an inline message",
			update: map[string]any{"callback_query": map[string]any{
				"id": "i2", "from": alice(), "inline_message_id": "AAA", "chat_instance": "1", "data": "\flang|it",
			}},
			answers: []string{"This button is out of date. Send /subscribe for a fresh list."},
		},
		{
			name: "a settings press under an inline message",
			update: map[string]any{"callback_query": map[string]any{
				"id": "i3", "from": alice(), "inline_message_id": "AAA", "chat_instance": "1", "data": "\fset|only_down",
			}},
			answers: []string{"This button is out of date. Send /subscribe for a fresh list."},
		},
		{
			name: "a report press under an inline message",
			update: map[string]any{"callback_query": map[string]any{
				"id": "i4", "from": alice(), "inline_message_id": "AAA", "chat_instance": "1", "data": "\faff|whatsapp",
			}},
			answers: []string{"Thanks — counted. 1 person reported WhatsApp problems in the last 15 min (usually 0)."},
		},
		{
			name: "a press without from",
			update: map[string]any{"callback_query": map[string]any{
				"id": "n1", "chat_instance": "1", "data": "\ftog|whatsapp",
				"message": rawMessage(new(group()), nil, "", nil),
			}},
			answers: []string{"Only group admins can change what this group follows."},
		},
		{
			name:   "an update of a kind telebot does not know",
			update: map[string]any{"business_message": rawMessage(new(aliceChat()), new(alice()), "/subscribe wa", map[string]any{"business_connection_id": "c1"})},
		},
		{
			name:   "an update that is empty",
			update: map[string]any{},
		},
		{
			name: "a command with fields telebot does not know",
			update: map[string]any{"message": rawMessage(new(aliceChat()), new(alice()), "/help", map[string]any{
				"paid_star_count": 5, "future_field": map[string]any{"x": []int{1, 2}},
			})},
			replies: []string{"Commands\n/status: how every service is doing…"},
		},
		{
			name: "the bot made admin of a channel",
			update: map[string]any{"my_chat_member": map[string]any{
				"chat": channel(), "from": alice(), "date": testNow().Unix(),
				"old_chat_member": map[string]any{"user": map[string]any{"id": 1000, "is_bot": true, "first_name": "Bot"}, "status": "left"},
				"new_chat_member": map[string]any{"user": map[string]any{"id": 1000, "is_bot": true, "first_name": "Bot"}, "status": "administrator"},
			}},
		},
		{
			name: "the bot removed from a channel",
			update: map[string]any{"my_chat_member": map[string]any{
				"chat": channel(), "from": alice(), "date": testNow().Unix(),
				"old_chat_member": map[string]any{"user": map[string]any{"id": 1000, "is_bot": true, "first_name": "Bot"}, "status": "administrator"},
				"new_chat_member": map[string]any{"user": map[string]any{"id": 1000, "is_bot": true, "first_name": "Bot"}, "status": "left"},
			}},
		},
		{
			name:   "a membership change without the new member",
			update: map[string]any{"my_chat_member": map[string]any{"chat": group(), "from": alice(), "date": testNow().Unix()}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvConfig(t, func(c *handlers.Config) { c.Flood = handlers.DefaultFloodLimit() })
			msgs, answers := e.push(tc.update)
			var replies []string
			for _, m := range msgs {
				replies = append(replies, m.Plain())
				if n := len(utf16.Encode([]rune(m.Plain()))); n > maxTelegramText {
					t.Errorf("a reply of %d UTF-16 units, more than Telegram takes", n)
				}
			}
			if !matchPrefixes(tc.replies, replies) {
				t.Errorf("replies %q, want %q", replies, tc.replies)
			}
			if diff := cmp.Diff(tc.answers, answers); diff != "" {
				t.Errorf("callback answers (-want +got):\n%s", diff)
			}
			// Whatever came, no chat changed but by a report that counts.
			for _, id := range []int64{aliceChat().ID, group().ID, supergroup().ID, channel().ID} {
				if got := e.subs.of(id); got != nil {
					t.Errorf("chat %d subscribed to %v", id, got)
				}
			}
			if e.subs.deleted != nil || e.subs.chats[channel().ID].ID != 0 {
				t.Errorf("chats changed: deleted %v, channel recorded %v", e.subs.deleted, e.subs.chats[channel().ID])
			}
			if got := e.reports.reports(); len(got) > 0 && len(tc.answers) == 0 {
				t.Errorf("reports %+v counted", got)
			}
			if tc.answers == nil {
				// The fake refuses answers to queries it did not make
				// itself, as those above are: that error is expected.
				e.checkNoErrors()
			}
		})
	}
}

// matchPrefixes reports whether got are want, where a want ending in "…"
// needs only to start got's text.
func matchPrefixes(want, got []string) bool {
	if len(want) != len(got) {
		return false
	}
	for i, w := range want {
		if p, ok := strings.CutSuffix(w, "…"); ok {
			if !strings.HasPrefix(got[i], p) {
				return false
			}
		} else if got[i] != w {
			return false
		}
	}
	return true
}
