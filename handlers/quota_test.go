package handlers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/outagebot/outagebot/bot/bottest"
	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/handlers"
)

// member is the n-th test user of a crowd, its id counting from 1000.
func member(n int) bottest.User {
	return bottest.User{ID: int64(1000 + n), FirstName: fmt.Sprintf("Member %d", n), LanguageCode: "en"}
}

const groupFull = "Enough people in this group already reported WhatsApp in the last 15 min. " +
	"To be counted too, report it to me in a private chat."

// outcome sorts a reply to a report.
func outcome(reply string) string {
	switch {
	case strings.HasPrefix(reply, "Thanks — counted."):
		return "counted"
	case strings.HasPrefix(reply, "You already reported"):
		return "already"
	case reply == groupFull:
		return "group full"
	}
	return reply
}

func TestGroupReportQuota(t *testing.T) {
	clk := newClock()
	e := newEnvConfig(t, func(c *handlers.Config) { c.Now = clk.Now })
	report := func(chat bottest.Chat, from bottest.User) string {
		t.Helper()
		return outcome(e.reply(chat, from, "/report wa"))
	}
	press := func(chat bottest.Chat, from bottest.User) string {
		t.Helper()
		return outcome(e.press(chat, from, 777, "\faff|whatsapp").Param("text"))
	}
	for _, step := range []struct {
		name string
		wait time.Duration
		do   func() string
		want string
	}{
		// The default floor is five: a group counts for four.
		{"first of the group", 0, func() string { return report(group(), member(1)) }, "counted"},
		{"its repeat takes no share of the quota", 0, func() string { return report(group(), member(1)) }, "already"},
		{"second", 0, func() string { return report(group(), member(2)) }, "counted"},
		{"third, by button", 0, func() string { return press(group(), member(3)) }, "counted"},
		{"fourth", time.Minute, func() string { return report(group(), member(4)) }, "counted"},
		{"fifth", 0, func() string { return report(group(), member(5)) }, "group full"},
		{"sixth, by button", 0, func() string { return press(group(), member(6)) }, "group full"},
		{"the same person as an anonymous admin", 0, func() string {
			return e.sendAs(group(), group(), "/report wa")[0].Plain()
		}, asChat},
		{"in private, where it counts", 0, func() string { return report(bottest.Chat{ID: member(5).ID, Type: "private"}, member(5)) }, "counted"},
		{"in another group", 0, func() string { return report(supergroup(), member(6)) }, "counted"},
		{"another service in the full group", 0, func() string {
			return e.reply(group(), member(7), "/report ig")
		}, "Thanks — counted. 1 person reported Instagram problems in the last 15 min (usually 0)."},
		// The first three reports leave the window; the fourth, a minute
		// younger, still holds its share.
		{"a window after the first three", 14*time.Minute + 30*time.Second, func() string { return report(group(), member(8)) }, "counted"},
		{"a window after the first three, again", 0, func() string { return report(group(), member(9)) }, "counted"},
		{"a window after the first three, a third", 0, func() string { return report(group(), member(10)) }, "counted"},
		{"full again", 0, func() string { return report(group(), member(11)) }, "group full"},
	} {
		clk.Advance(step.wait)
		if got := step.do(); got != step.want {
			t.Errorf("%s: %q, want %q", step.name, got, step.want)
		}
	}
	var want []countedReport
	for _, n := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10} {
		service := "whatsapp"
		if n == 7 {
			service = "instagram"
		}
		want = append(want, countedReport{service, "", member(n).ID})
	}
	if diff := cmp.Diff(want, e.reports.reports()); diff != "" {
		t.Errorf("reports (-want +got):\n%s", diff)
	}
}

func TestGroupReportQuotaFollowsTheFloor(t *testing.T) {
	for _, tc := range []struct {
		floor, quota int
	}{
		{3, 2},
		{2, 1},
		{1, 1}, // every report is a spike: no quota can prevent that
	} {
		t.Run(fmt.Sprint("floor ", tc.floor), func(t *testing.T) {
			e := newEnvConfig(t, func(c *handlers.Config) { c.ReportRule = checks.ReportRule{Floor: tc.floor} })
			counted := 0
			for n := range tc.quota + 2 {
				if outcome(e.reply(supergroup(), member(n), "/report wa")) == "counted" {
					counted++
				}
			}
			if counted != tc.quota {
				t.Errorf("%d reports counted from one group, want %d", counted, tc.quota)
			}
		})
	}
}

func TestChannelAndPrivateReportsHaveNoQuota(t *testing.T) {
	e := newEnv(t)
	for n := range 10 {
		if got := outcome(e.press(channel(), member(n), 777, "\faff|whatsapp").Param("text")); got != "counted" {
			t.Errorf("press %d under a channel post: %q, want counted", n, got)
		}
		if got := outcome(e.reply(bottest.Chat{ID: member(n).ID, Type: "private"}, member(n), "/report ig")); got != "counted" {
			t.Errorf("report %d in private: %q, want counted", n, got)
		}
	}
}

func TestGroupQuotaIsNotTakenByFailedReports(t *testing.T) {
	e := newEnv(t)
	e.reports.err = fmt.Errorf("disk full")
	for n := range 6 {
		e.reply(group(), member(n), "/report wa") // apologies
	}
	e.reports.err = nil
	for n := range 4 {
		if got := outcome(e.reply(group(), member(10+n), "/report wa")); got != "counted" {
			t.Errorf("report %d after the failures: %q, want counted", n, got)
		}
	}
}
