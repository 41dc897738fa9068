package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/locale"
	"github.com/outagebot/outagebot/store"
)

// Preferences keeps how each chat wants its alerts.
type Preferences interface {
	// Settings returns the chat's settings, the defaults when it has none.
	Settings(chatID int64) (store.Settings, error)
	// SetSettings fails for settings that store.Settings.Validate refuses.
	SetSettings(chatID int64, s store.Settings) error
}

// settingsUnique names the buttons of the settings menu. telebot sends their
// data as "\f" + settingsUnique + "|" + the choice: a locale.Choice* or a
// quiet-hours preset (quietChoice).
const settingsUnique = "set"

// quietPresets are the quiet hours the menu offers, as [from, to] clocks.
// Other hours would need typing; these cover most nights.
func quietPresets() [][2]string {
	return [][2]string{{"22:00", "07:00"}, {"23:00", "08:00"}, {"00:00", "06:00"}}
}

// quietChoice is the button data of a quiet-hours preset.
func quietChoice(preset [2]string) string {
	return "quiet_" + preset[0] + "-" + preset[1]
}

// choose returns st with the menu choice named by data made, and whether
// data names a choice the menu offers: button data comes from the client
// and may be anything.
func choose(st store.Settings, data string) (store.Settings, bool) {
	switch data {
	case locale.ChoiceAll:
		st.OnlyDown = false
	case locale.ChoiceOnlyDown:
		st.OnlyDown = true
	case locale.ChoiceRecoveriesOn:
		st.NoRecoveries = false
	case locale.ChoiceRecoveriesOff:
		st.NoRecoveries = true
	case locale.ChoiceQuietOff:
		st.QuietFrom, st.QuietTo = "", ""
	default:
		for _, q := range quietPresets() {
			if data == quietChoice(q) {
				st.QuietFrom, st.QuietTo = q[0], q[1]
				return st, true
			}
		}
		return st, false
	}
	return st, true
}

// settingsView is what the menu shows of st, in a chat with topics when
// forum is set.
func settingsView(st store.Settings, forum bool) locale.Settings {
	return locale.Settings{
		OnlyDown: st.OnlyDown, NoRecoveries: st.NoRecoveries,
		QuietFrom: st.QuietFrom, QuietTo: st.QuietTo, TimeZone: st.TimeZone,
		Forum: forum, TopicID: st.TopicID,
	}
}

// isForum reports whether the chat of c is a supergroup with topics. A
// message in a topic says so; otherwise getChat does, since telebot's Chat
// drops is_forum.
func isForum(c tele.Context) (bool, error) {
	chat := c.Chat()
	if chat.Type != tele.ChatSuperGroup {
		return false, nil
	}
	if m := c.Message(); m != nil && m.TopicMessage {
		return true, nil
	}
	raw, err := c.Bot().Raw("getChat", map[string]string{"chat_id": chat.Recipient()})
	if err != nil {
		return false, fmt.Errorf("ask whether chat %d has topics: %w", chat.ID, err)
	}
	var resp struct {
		Result struct {
			IsForum bool `json:"is_forum"`
		} `json:"result"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		return false, fmt.Errorf("ask whether chat %d has topics: decode: %w", chat.ID, err)
	}
	return resp.Result.IsForum, nil
}

// settingsMenu is the settings menu of st in the chat of c: text and
// keyboard.
func settingsMenu(c tele.Context, p *locale.Printer, st store.Settings) (string, *tele.ReplyMarkup, error) {
	forum, err := isForum(c)
	if err != nil {
		return "", nil, err
	}
	return p.SettingsMenu(settingsView(st, forum)), settingsMarkup(p, st), nil
}

// settingsMarkup is the keyboard of the settings menu, st's choices marked:
// one row per setting, the quiet-hours presets on a row of their own.
func settingsMarkup(p *locale.Printer, st store.Settings) *tele.ReplyMarkup {
	button := func(choice string, chosen bool) tele.InlineButton {
		return tele.InlineButton{Unique: settingsUnique, Text: p.SettingsButton(choice, chosen), Data: choice}
	}
	rows := [][]tele.InlineButton{
		{button(locale.ChoiceAll, !st.OnlyDown), button(locale.ChoiceOnlyDown, st.OnlyDown)},
		{button(locale.ChoiceRecoveriesOn, !st.NoRecoveries), button(locale.ChoiceRecoveriesOff, st.NoRecoveries)},
		{button(locale.ChoiceQuietOff, st.QuietFrom == "")},
	}
	var presets []tele.InlineButton
	for _, q := range quietPresets() {
		chosen := st.QuietFrom == q[0] && st.QuietTo == q[1]
		presets = append(presets, tele.InlineButton{Unique: settingsUnique, Text: p.QuietButton(q[0], q[1], chosen), Data: quietChoice(q)})
	}
	return &tele.ReplyMarkup{InlineKeyboard: append(rows, presets)}
}

// settings handles /settings, which shows the chat's alert settings with a
// keyboard to change them, and /settings tz <zone>, which sets the time
// zone its quiet hours are read in. Only who may change the chat may ask.
func (h *handler) settings(c tele.Context) error {
	allowed, err := h.mayChange(c)
	if err != nil {
		return h.fail(c, err)
	}
	p := h.text(c)
	if !allowed {
		return h.send(c, p.SettingsNotAdmin())
	}
	chat := c.Chat()
	st, err := h.Prefs.Settings(chat.ID)
	if err != nil {
		return h.fail(c, err)
	}
	if a := args(c.Text()); len(a) >= 2 && strings.EqualFold(a[0], "tz") {
		zone := a[1]
		// Checked here rather than left to SetSettings, so that a typo is
		// told apart from a failing database.
		if err := store.CheckTimeZone(zone); err != nil {
			if near, ok := nearestZone(zone); ok {
				return h.send(c, p.ZoneNearest(zone, near))
			}
			return h.send(c, p.ZoneUnknown(zone))
		}
		st.TimeZone = zone
		if err := h.Prefs.SetSettings(chat.ID, st); err != nil {
			return h.fail(c, err)
		}
		return h.send(c, p.ZoneSet(zone))
	}
	text, markup, err := settingsMenu(c, p, st)
	if err != nil {
		return h.fail(c, err)
	}
	return h.send(c, text, markup)
}

// chooseSetting handles a press on a settings button: it makes the choice
// for the chat the menu is in (never one named by the data), answers the
// press and redraws the menu in place.
func (h *handler) chooseSetting(c tele.Context) error {
	cb := c.Callback()
	_, valid := choose(store.Settings{}, cb.Data)
	chat, p, done, err := h.adminPress(c, valid, (*locale.Printer).SettingsNotAdminAlert)
	if done {
		return err
	}
	st, err := h.Prefs.Settings(chat.ID)
	if err != nil {
		return h.failCallback(c, err)
	}
	st, _ = choose(st, cb.Data)
	if err := h.Prefs.SetSettings(chat.ID, st); err != nil {
		return h.failCallback(c, err)
	}
	// Answer first: the spinner on the user's button waits for it.
	if err := c.Respond(&tele.CallbackResponse{Text: p.SettingsSaved()}); err != nil {
		return fmt.Errorf("answer the setting %s: %w", cb.Data, err)
	}
	text, markup, err := settingsMenu(c, p, st)
	if err != nil {
		return fmt.Errorf("redraw the settings menu: %w", err)
	}
	_, err = c.Bot().Edit(cb.Message, text, markup, tele.ModeHTML, tele.NoPreview)
	if err != nil && !errors.Is(err, tele.ErrMessageNotModified) && !errors.Is(err, tele.ErrSameMessageContent) {
		return fmt.Errorf("redraw the settings menu: %w", err)
	}
	return nil
}

// here handles /here in a group with topics: from now on the alerts go to
// the topic it was sent in, or to the General topic when sent there. Only
// admins may move them.
func (h *handler) here(c tele.Context) error {
	chat, msg := c.Chat(), c.Message()
	p := h.text(c)
	forum, err := isForum(c)
	if err != nil {
		return h.fail(c, err)
	}
	if !forum {
		return h.send(c, p.HereNoTopics())
	}
	allowed, err := h.mayChange(c)
	if err != nil {
		return h.fail(c, err)
	}
	if !allowed {
		return h.send(c, p.SettingsNotAdmin())
	}
	st, err := h.Prefs.Settings(chat.ID)
	if err != nil {
		return h.fail(c, err)
	}
	// Messages in the General topic carry no thread; a thread id without
	// is_topic_message is a reply thread, not a topic.
	st.TopicID = 0
	if msg.TopicMessage {
		st.TopicID = msg.ThreadID
	}
	if err := h.Prefs.SetSettings(chat.ID, st); err != nil {
		return h.fail(c, err)
	}
	return h.send(c, p.Here(st.TopicID == 0))
}

// nearestZone guesses the zone a refused name was meant to be, from the
// usual slips: slashes doubled or left over ("Europe//Rome/"), a path of
// the zoneinfo directory ("right/UTC", "posix/Asia/Tokyo"), capitals
// missed ("europe/rome", "utc"). It reports false when no guess is a zone.
func nearestZone(typed string) (string, bool) {
	trimmed := typed
	for _, dir := range []string{"posix/", "right/"} {
		trimmed = strings.TrimPrefix(trimmed, dir)
	}
	words := strings.FieldsFunc(trimmed, func(r rune) bool { return r == '/' })
	joined := strings.Join(words, "/")
	for _, guess := range []string{joined, titleZone(joined), strings.ToUpper(joined)} {
		if guess != typed && store.CheckTimeZone(guess) == nil {
			return guess, true
		}
	}
	return "", false
}

// titleZone capitalises name the way the tz database writes most names:
// each word, and each part of a word after '_' or '-', starts with a
// capital; the rest is small ("america/new_york" → "America/New_York").
func titleZone(name string) string {
	b := []byte(strings.ToLower(name))
	for i := range b {
		if (i == 0 || b[i-1] == '/' || b[i-1] == '_' || b[i-1] == '-') && 'a' <= b[i] && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}
