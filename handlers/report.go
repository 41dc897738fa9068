package handlers

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/language"
	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/locale"
)

// Reports counts people's reports of problems with a service.
type Reports interface {
	// AddReport counts a report by the user unless they already reported
	// the service within perUser, and says whether it counted.
	AddReport(service, kind, lang string, userID int64, at time.Time, perUser time.Duration) (counted bool, err error)
	// ReportBuckets returns the service's report buckets that start in
	// [from, to).
	ReportBuckets(service string, from, to time.Time) ([]checks.ReportBucket, error)
}

// affectedUnique names the "I'm affected" buttons. Their data is
// "\f" + affectedUnique + "|" + service id, the form telebot routes by.
const affectedUnique = "aff"

// AffectedButton is the "I'm affected" button for service, labelled by text:
// pressed anywhere, under any message, it counts a report of a problem with
// the service by whoever pressed it. It reports false when the service id is
// too long for a button's data. The button carries its data whole, without
// Unique, so that it can be sent more than once and through any client.
func AffectedButton(text *locale.Printer, service string) (tele.InlineButton, bool) {
	data := "\f" + affectedUnique + "|" + service
	if len(data) > maxCallbackData {
		return tele.InlineButton{}, false
	}
	return tele.InlineButton{Text: text.AffectedButton(service), Data: data}, true
}

// affectedMarkup is a keyboard of "I'm affected" buttons labelled by p, one
// row each, or nil when none of services can have one.
func affectedMarkup(p *locale.Printer, services []string) *tele.ReplyMarkup {
	var rows [][]tele.InlineButton
	for _, s := range services {
		if b, ok := AffectedButton(p, s); ok {
			rows = append(rows, []tele.InlineButton{b})
		}
	}
	if rows == nil {
		return nil
	}
	return &tele.ReplyMarkup{InlineKeyboard: rows}
}

// troubled returns the ids, in order, whose service is in any trouble:
// neither operational nor unchecked. Unknown is left out too: it means this
// monitor is offline, not Meta.
func troubled(ids []string, statuses map[string]checks.Status) []string {
	var out []string
	for _, id := range ids {
		switch statuses[id].State {
		case "", checks.Operational, checks.Unknown:
		default:
			out = append(out, id)
		}
	}
	return out
}

// report handles /report [service [kind]]. Anyone may report, in any chat:
// a report speaks for its sender, not for the chat, and counts once per
// person (see Reports.AddReport). Without a service it offers the "I'm
// affected" buttons instead; a report written on behalf of a chat is not
// counted, and gets the button to report as oneself.
func (h *handler) report(c tele.Context) error {
	p := h.text(c)
	a := args(c.Text())
	if len(a) == 0 {
		return h.send(c, p.ReportChoose(), affectedMarkup(p, h.Catalog.IDs()))
	}
	s, ok := h.Catalog.Lookup(a[0])
	if !ok {
		return h.send(c, p.ReportUnknownService(a[0]))
	}
	// Only the first kind counts: one report says one thing.
	var kind string
	if len(a) > 1 {
		kind = strings.ToLower(a[1])
		if !slices.Contains(checks.ReportKinds, kind) {
			return h.send(c, p.ReportUnknownKind(s.ID, a[1]))
		}
	}
	if c.Message().SenderChat != nil {
		// Written on behalf of a chat: an anonymous admin posting as the
		// group, or a channel. Telegram does not say who is behind it, and
		// counting the chat as a person would let one person with a few
		// groups and channels report once from each and make a spike
		// alone. The button under the answer carries who presses it.
		return h.send(c, p.ReportAsChat(s.ID), affectedMarkup(p, []string{s.ID}))
	}
	u := c.Sender()
	if u == nil {
		return nil // nobody to count, nobody to answer
	}
	res, sig, err := h.count(c.Chat(), s.ID, kind, u)
	if err != nil {
		return h.fail(c, err)
	}
	switch res {
	case reportRepeated:
		return h.send(c, p.ReportAlready(s.ID, time.Duration(h.ReportRule.PerUser)))
	case reportGroupFull:
		return h.send(c, p.ReportGroupFull(s.ID, time.Duration(h.ReportRule.Window)))
	}
	return h.send(c, p.ReportCounted(s.ID, sig, time.Duration(h.ReportRule.Window)))
}

// affected handles a press on an "I'm affected" button: a report, of no
// particular kind, by whoever pressed it. A press always names the person,
// anonymous group admins included, so it counts once per person whichever
// chats they press it in.
func (h *handler) affected(c tele.Context) error {
	cb := c.Callback()
	// The data comes from the client and may be anything: it has to name a
	// service exactly as AffectedButton wrote it.
	s, ok := h.Catalog.Lookup(cb.Data)
	if !ok || s.ID != cb.Data || cb.Sender == nil {
		return h.staleButton(c)
	}
	res, sig, err := h.count(c.Chat(), s.ID, "", cb.Sender)
	if err != nil {
		return h.failCallback(c, err)
	}
	p := h.text(c)
	var text string
	switch res {
	case reportCounted:
		text = p.ReportCountedAlert(s.ID, sig, time.Duration(h.ReportRule.Window))
	case reportRepeated:
		text = p.ReportAlreadyAlert(s.ID, time.Duration(h.ReportRule.PerUser))
	case reportGroupFull:
		text = p.ReportGroupFullAlert(s.ID, time.Duration(h.ReportRule.Window))
	}
	if err := c.Respond(&tele.CallbackResponse{Text: text}); err != nil {
		return fmt.Errorf("answer report of %s: %w", s.ID, err)
	}
	return nil
}

// reportOutcome is what became of a report.
type reportOutcome int

const (
	reportCounted   reportOutcome = iota
	reportRepeated                // its sender reported the service within the period
	reportGroupFull               // its group used up its quota (see groupQuota)
)

// count records a report by who, written in chat, and, when it counted,
// returns what the reports about the service say now, this one included.
func (h *handler) count(chat *tele.Chat, service, kind string, who *tele.User) (reportOutcome, checks.ReportSignal, error) {
	now := h.Now()
	if !h.quota.take(chat, service, now) {
		return reportGroupFull, checks.ReportSignal{}, nil
	}
	counted, err := h.Reports.AddReport(service, kind, primaryLanguage(who.LanguageCode), who.ID, now, time.Duration(h.ReportRule.PerUser))
	if err != nil || !counted {
		h.quota.release(chat, service, now)
		return reportRepeated, checks.ReportSignal{}, err
	}
	sig, err := h.signals.Signal(service, now)
	return reportCounted, sig, err
}

// primaryLanguage is the primary subtag of a Telegram language code ("pt"
// of "pt-br"), canonical ("he" of "iw"), or "" when the code names no known
// language: all a report keeps of where its sender may be.
func primaryLanguage(code string) string {
	tag, err := language.Parse(code)
	if err != nil {
		return ""
	}
	base, conf := tag.Base()
	if conf != language.Exact { // "und" would be guessed as English
		return ""
	}
	return base.String()
}
