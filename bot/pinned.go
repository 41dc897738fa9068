package bot

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/store"
)

// BoardStore is the StatusBoard's view of the database.
type BoardStore interface {
	Statuses() (map[string]checks.Status, error)
	StatusPost() (store.StatusPost, bool, error)
	SetStatusPost(p store.StatusPost) error
}

// BoardRenderer writes the text of the channel's status message.
type BoardRenderer interface {
	// ChannelStatus renders every service's announced state as one HTML
	// message in lang (the board gives Unknown as the announced state of a
	// service whose state is unknown now). It must depend on the statuses
	// alone, not on the clock: the message is edited whenever the text
	// differs.
	ChannelStatus(lang string, statuses map[string]checks.Status) string
}

// StatusBoardOptions configure a StatusBoard.
type StatusBoardOptions struct {
	// Channel is the announcement channel as Telegram accepts it in chat_id
	// ("@name" or "-100…"). It must be set.
	Channel string
	Lang    string  // language of the message ("" for the renderer's default)
	Budget  *Budget // the bot-wide rate, shared with the Sender and replies
	Log     *slog.Logger
}

// StatusBoard keeps one message in the announcement channel that shows every
// service's state at a glance, pinned at the top: posted once, then edited
// in place, and only when its text changes.
//
// It runs apart from the Sender and reads the announced states, not the
// outbox: it is kicked after every probe round (cheap, since nothing is sent
// unless the text changed), so one edit covers all the transitions of a
// round, and it shows the truth after a restart without waiting for the
// next incident. A round takes tens of seconds, so the message is edited at
// most about twice a minute, within the channel's 20 messages a minute.
type StatusBoard struct {
	client *Client
	db     BoardStore
	render BoardRenderer
	o      StatusBoardOptions
	kick   chan struct{}
}

// NewStatusBoard returns a StatusBoard; call Run to keep it up to date.
func NewStatusBoard(c *Client, db BoardStore, r BoardRenderer, o StatusBoardOptions) *StatusBoard {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &StatusBoard{client: c, db: db, render: r, o: o, kick: make(chan struct{}, 1)}
}

// Kick tells the board that states may have changed. It never blocks.
func (b *StatusBoard) Kick() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// Run updates the message at once and after every Kick until ctx ends. A
// failed update is logged and tried again at the next Kick.
func (b *StatusBoard) Run(ctx context.Context) {
	for {
		if err := b.Update(ctx); err != nil && ctx.Err() == nil {
			b.o.Log.Warn("cannot update the channel's status message", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-b.kick:
		}
	}
}

// asShown is what the board shows of statuses. A service whose state is
// unknown (this machine is offline: every control probe failed) shows as
// unknown, not as the state last announced: nobody can vouch for that now,
// and a green board during an outage nobody can see would be a lie.
func asShown(statuses map[string]checks.Status) map[string]checks.Status {
	shown := make(map[string]checks.Status, len(statuses))
	for id, st := range statuses {
		if st.State == checks.Unknown {
			st.Announced, st.BadSince = checks.Unknown, time.Time{}
		}
		shown[id] = st
	}
	return shown
}

type pinParams struct {
	ChatID              string `json:"chat_id"`
	MessageID           int    `json:"message_id"`
	DisableNotification bool   `json:"disable_notification"`
}

// Update brings the message up to date: it posts and pins it the first time
// (and in a newly configured channel, or when an admin deleted it), edits it
// when its text changed, and does nothing otherwise. Nothing is posted
// before the first round has stored a state. A pin the channel refuses (the
// bot lacks the right to pin) is tried again with the next change.
func (b *StatusBoard) Update(ctx context.Context) error {
	statuses, err := b.db.Statuses()
	if err != nil {
		return fmt.Errorf("update the channel's status message: %w", err)
	}
	if len(statuses) == 0 {
		return nil
	}
	text := b.render.ChannelStatus(b.o.Lang, asShown(statuses))
	post, posted, err := b.db.StatusPost()
	if err != nil {
		return fmt.Errorf("update the channel's status message: %w", err)
	}
	posted = posted && post.Channel == b.o.Channel
	if posted && post.Text == text {
		return nil
	}
	if posted {
		if err := b.o.Budget.Bulk(ctx); err != nil {
			return err
		}
		err := editMessage(ctx, b.client, b.o.Channel, post.MessageID, text)
		switch {
		case isEditGone(err):
			posted = false
		case err != nil:
			return fmt.Errorf("edit the channel's status message: %w", err)
		}
	}
	if !posted {
		if err := b.o.Budget.Bulk(ctx); err != nil {
			return err
		}
		id, err := sendMessage(ctx, b.client, sendMessageParams{
			ChatID: b.o.Channel, Text: text, ParseMode: "HTML",
			LinkPreview: linkPreview{Disabled: true},
			// The posts about incidents are what ring; this one is a view.
			DisableNotification: true,
		})
		if err != nil {
			return fmt.Errorf("post the channel's status message: %w", err)
		}
		post = store.StatusPost{Channel: b.o.Channel, MessageID: id}
	}
	post.Text = text
	// Recorded before pinning, so that a refused pin cannot make the next
	// update post a second message.
	if err := b.db.SetStatusPost(post); err != nil {
		return err
	}
	if post.Pinned {
		return nil
	}
	callCtx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if err := b.client.Call(callCtx, "pinChatMessage", pinParams{
		ChatID: b.o.Channel, MessageID: post.MessageID, DisableNotification: true,
	}, nil); err != nil {
		return fmt.Errorf("pin the channel's status message (the bot needs the right to pin messages): %w", err)
	}
	post.Pinned = true
	return b.db.SetStatusPost(post)
}
