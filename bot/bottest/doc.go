// Package bottest provides an in-process fake of the Telegram Bot API for
// tests, in the spirit of net/http/httptest.
//
// A Server listens on 127.0.0.1 and answers {URL}/bot{TOKEN}/{method} the way
// api.telegram.org does: the same JSON envelopes, HTTP statuses, error
// descriptions and parameters (retry_after, migrate_to_chat_id). It accepts
// the request encodings real clients use: JSON objects whose numbers are
// numbers (our own client) or strings (telebot v3), nested objects sent either
// as objects or as JSON-encoded strings, the body "null" of parameterless
// methods, and query-string or form-encoded parameters.
//
// Tests drive the user's side by pushing updates (SendText, SendTopicText
// in a forum topic, PressButton, SendInlineQuery, PushMyChatMember,
// PushMigration or any raw PushUpdate), which a real long poll on
// getUpdates delivers. They observe the bot's side through Calls, Messages,
// InlineAnswers and PinnedMessage, and block on progress with Wait,
// WaitMessages and WaitInlineAnswers instead of sleeping.
// answerInlineQuery checks an answer as Telegram does (a known query,
// answered once; at most 50 articles with unique ids and valid messages). Fail, FailAlways
// and BlockChat inject the errors a broadcaster meets; SetLimits enforces
// Telegram's sending limits, and Throttled counts the 429s by the limit
// that refused the call.
// setWebhook checks its URL and secret as Telegram does, and getUpdates
// answers 409 Conflict while a webhook is set, until deleteWebhook.
// sendPhoto takes a photo uploaded as multipart/form-data, checks it as
// Telegram does, and records its bytes as the Message's Photo, with the
// caption as its Text.
//
// A typical test:
//
//	srv := bottest.NewServer("123:TEST")
//	defer srv.Close()
//	// start the bot with API URL srv.URL and token srv.Token, then:
//	srv.SendText(bottest.Chat{ID: 42, Type: "private"}, bottest.User{ID: 42, FirstName: "Ann"}, "/status")
//	msgs, err := srv.WaitMessages(ctx, 1)
//	if err != nil {
//		t.Fatal(err)
//	}
//	if got := msgs[0].Plain(); !strings.Contains(got, "WhatsApp") {
//		t.Errorf("reply to /status = %q, want it to mention WhatsApp", got)
//	}
//
// The server deliberately differs from Telegram in two ways that only make
// tests stricter: HTML parse mode rejects a bare "&" (Telegram's docs forbid
// it, its parser forgives it), and sending to an unknown numeric chat id
// succeeds, as if every such chat existed, so fan-out tests need no setup.
package bottest
