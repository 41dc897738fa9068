package bot

import (
	"strings"
	"testing"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/locale"
	"github.com/outagebot/outagebot/store"
)

func TestSenderSpeaksEachChatsLanguage(t *testing.T) {
	f := newFixture(t, "@outages", 5, 6)
	f.srv.AddChannel("outages", -100999)
	l, err := locale.New(checks.NewCatalog([]checks.Service{{ID: "whatsapp", Name: "WhatsApp"}}), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	o := f.sender.o
	o.ChannelLang = "it"
	o.Affected = func(lang, service string) (tele.InlineButton, bool) {
		return tele.InlineButton{Text: lang + "|" + service, Data: "\faff|" + service}, true
	}
	f.sender = NewSender(f.sender.client, f.db, l, o)
	f.start(t)

	f.commit(t, checks.Operational, checks.Down)
	f.waitOutbox(t, 0)
	// Chat 5 switches to Arabic, as /lang does; chat 6 keeps the default.
	if err := f.db.SetLang(store.Chat{ID: 5, Lang: "ar"}); err != nil {
		t.Fatal(err)
	}
	f.commit(t, checks.Down, checks.Operational)
	f.waitOutbox(t, 0)

	for _, tc := range []struct {
		chat int64
		want []string // in each message, in order
	}{
		{5, []string{"WhatsApp is down", "عادت \u2068WhatsApp\u2069 للعمل"}},
		{6, []string{"WhatsApp is down", "WhatsApp is back"}},
		// The post, its edit, and the reply that it is over.
		{-100999, []string{"WhatsApp non funziona", "WhatsApp funziona di nuovo", "WhatsApp funziona di nuovo</b> dopo"}},
	} {
		msgs := f.srv.MessagesTo(tc.chat)
		if len(msgs) != len(tc.want) {
			t.Errorf("chat %d got %d messages %q, want %d", tc.chat, len(msgs), texts(msgs), len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if !strings.Contains(msgs[i].Text, w) {
				t.Errorf("chat %d message %d = %q, want it to contain %q", tc.chat, i, msgs[i].Text, w)
			}
		}
	}
	if got := string(f.srv.MessagesTo(6)[0].ReplyMarkup); !strings.Contains(got, `"text":"|whatsapp"`) {
		t.Errorf("alert buttons of a chat without a language = %s, want them labelled in the default", got)
	}
}
