package locale

import (
	"testing"
	"time"
)

func TestAbuseReplies(t *testing.T) {
	p := testPrinter(t)
	it := testLocalesUTC(t).For("it")
	for _, tc := range []struct {
		name, got, want string
	}{
		{"throttled", p.Throttled(), "⏳ Too many requests — please wait a few seconds."},
		{"throttled alert", p.ThrottledAlert(), "⏳ Too many requests — please wait a few seconds."},
		{"throttled in Italian", it.Throttled(), "⏳ Troppe richieste, aspetta qualche secondo."},
		{"group full", p.ReportGroupFull("evil", 15*time.Minute),
			"Enough people in this group already reported &lt;b&gt;&amp; in the last 15 min. " +
				"To be counted too, report it to me in a private chat."},
		{"group full alert", p.ReportGroupFullAlert("evil", time.Hour),
			"Enough people in this group already reported <b>& in the last 1 h. " +
				"To be counted too, report it to me in a private chat."},
		{"group full in Italian", it.ReportGroupFullAlert("whatsapp", 15*time.Minute),
			"Abbastanza persone di questo gruppo hanno già segnalato WhatsApp negli ultimi 15 min. " +
				"Perché conti anche la tua segnalazione, mandamela in chat privata."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got  %q\nwant %q", tc.got, tc.want)
			}
		})
	}
}
