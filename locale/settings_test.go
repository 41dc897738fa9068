package locale

import (
	"strings"
	"testing"
	"time"

	"github.com/outagebot/outagebot/checks"
)

func TestSettingsMenu(t *testing.T) {
	p := testPrinter(t)
	for _, tc := range []struct {
		name string
		s    Settings
		want string
	}{
		{"defaults", Settings{},
			"⚙️ <b>Alert settings of this chat</b>\n" +
				"🔔 Alerts when a service is degraded or down\n" +
				"✅ Recoveries are announced\n" +
				"🌙 No quiet hours\n" +
				"🕒 Time zone: UTC. Change it with e.g. <code>/settings tz Europe/Rome</code>"},
		{"everything set, forum without a topic",
			Settings{OnlyDown: true, NoRecoveries: true, QuietFrom: "23:00", QuietTo: "08:00", TimeZone: "Europe/Rome", Forum: true},
			"⚙️ <b>Alert settings of this chat</b>\n" +
				"🔔 Alerts only when a service is down\n" +
				"✅ Recoveries are not announced\n" +
				"🌙 Quiet hours 23:00–08:00: alerts arrive without sound\n" +
				"🕒 Time zone: Europe/Rome. Change it with e.g. <code>/settings tz Europe/Rome</code>\n" +
				"📌 Alerts go to the General topic. Send /here in a topic to get them there."},
		{"forum with a topic", Settings{Forum: true, TopicID: 7},
			"⚙️ <b>Alert settings of this chat</b>\n" +
				"🔔 Alerts when a service is degraded or down\n" +
				"✅ Recoveries are announced\n" +
				"🌙 No quiet hours\n" +
				"🕒 Time zone: UTC. Change it with e.g. <code>/settings tz Europe/Rome</code>\n" +
				"📌 Alerts go to the topic chosen with /here."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.SettingsMenu(tc.s); got != tc.want {
				t.Errorf("SettingsMenu(%+v) =\n%s\nwant\n%s", tc.s, got, tc.want)
			}
		})
	}
}

func TestSettingsButtons(t *testing.T) {
	p := testLocalesUTC(t).For("it")
	for _, tc := range []struct{ got, want string }{
		{p.SettingsButton(ChoiceOnlyDown, false), "Solo guasti"},
		{p.SettingsButton(ChoiceOnlyDown, true), "✅ Solo guasti"},
		{p.QuietButton("22:00", "07:00", false), "🌙 22–07"},
		{p.QuietButton("22:00", "07:00", true), "✅ 22–07"},
		{p.QuietButton("22:30", "07:00", false), "🌙 22:30–07"},
	} {
		if tc.got != tc.want {
			t.Errorf("label %q, want %q", tc.got, tc.want)
		}
	}
}

func TestChannelStatus(t *testing.T) {
	statuses := map[string]checks.Status{
		// Announced, not what the last round suspects, and since when the
		// trouble was announced.
		"whatsapp":  {State: checks.Recovering, Announced: checks.Down, Since: ago(time.Minute), BadSince: ago(17 * time.Hour)},
		"instagram": {State: checks.Suspected, Announced: checks.Operational, Since: ago(time.Minute)},
	}
	got := testPrinter(t).ChannelStatus(statuses)
	want := "📊 <b>Meta's services at a glance</b>\n" +
		"🔴 <b>WhatsApp</b>: down since Mar 3, 23:16 UTC\n" +
		"🟢 <b>Instagram</b>: operational\n" +
		"⚪ <b>&lt;b&gt;&amp;</b>: not checked yet\n" +
		"<i>This message is updated whenever a service changes state.</i>"
	if got != want {
		t.Errorf("ChannelStatus =\n%s\nwant\n%s", got, want)
	}
	// The same day shows the date too: the text must not change at
	// midnight by itself.
	statuses["whatsapp"] = checks.Status{State: checks.Down, Announced: checks.Down, BadSince: ago(time.Minute)}
	if got := testPrinter(t).ChannelStatus(statuses); !strings.Contains(got, "down since Mar 4, 16:15 UTC") {
		t.Errorf("ChannelStatus of an outage of today = %q, want the date in it", got)
	}
	ar := testLocalesUTC(t).ChannelStatus("ar", statuses)
	if !strings.Contains(ar, "\u200f🔴 <b>"+fsi+"WhatsApp"+pdi+"</b>: "+fsi+"متوقفة"+pdi+" منذ "+fsi+"4/3 16:15 UTC"+pdi) {
		t.Errorf("Arabic ChannelStatus does not isolate its values:\n%q", ar)
	}
}

func TestStartLinks(t *testing.T) {
	got := testPrinter(t).StartLinks("https://t.me/outage_bot?start=sub_whatsapp", "https://t.me/outage_bot?startgroup=start", "whatsapp")
	want := "🔗 <b>Links to share</b>\n" +
		"https://t.me/outage_bot?start=sub_whatsapp: follow WhatsApp in one tap\n" +
		"https://t.me/outage_bot?startgroup=start: add me to a group"
	if got != want {
		t.Errorf("StartLinks =\n%s\nwant\n%s", got, want)
	}
}
