package bot

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	tele "gopkg.in/telebot.v3"
)

// SecretHeader is the header in which Telegram sends, with every update it
// pushes, the secret_token given to setWebhook.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// maxUpdateSize bounds the body of one pushed update; real ones are a few
// kilobytes.
const maxUpdateSize = 1 << 20

// handOff bounds how long a pushed update waits for telebot to take it. Past
// it the request fails with 503, and Telegram pushes the update again later.
const handOff = 5 * time.Second

// Webhook receives the updates that Telegram pushes to a public HTTPS URL,
// the alternative to long polling with Poller. It is both the http.Handler
// to serve at that URL's path and the tele.Poller that hands telebot what
// the handler receives, so handlers work the same in both modes.
//
// Set registers the URL with a secret drawn when the Webhook is made;
// requests that do not carry it are refused with 401. An update is answered
// 200 only once telebot has it: Telegram pushes again what was refused, so
// nothing is lost while the bot starts or stops.
type Webhook struct {
	client *Client
	url    string
	secret string
	log    *slog.Logger
	pushes chan push
}

// push is one received update on its way to telebot.
type push struct {
	update tele.Update
	taken  chan struct{} // closed once telebot has the update
}

// NewWebhook returns a Webhook for the public URL with a fresh random
// secret. Nothing reaches Telegram before Set.
func NewWebhook(c *Client, url string, log *slog.Logger) *Webhook {
	secret := make([]byte, 32)
	rand.Read(secret) // never fails: it would crash the program instead
	return &Webhook{client: c, url: url, secret: hex.EncodeToString(secret), log: log, pushes: make(chan push)}
}

type setWebhookParams struct {
	URL            string   `json:"url"`
	SecretToken    string   `json:"secret_token"`
	AllowedUpdates []string `json:"allowed_updates"`
}

// Set asks Telegram to push updates to the Webhook's URL, with its secret
// and the update kinds the Poller asks for.
func (w *Webhook) Set(ctx context.Context) error {
	err := w.client.Call(ctx, "setWebhook", setWebhookParams{
		URL: w.url, SecretToken: w.secret, AllowedUpdates: AllowedUpdates,
	}, nil)
	if err != nil {
		return fmt.Errorf("set webhook: %w", err)
	}
	return nil
}

// Delete asks Telegram to stop pushing updates. Telegram keeps the updates
// that arrive meanwhile, for a Poller or the next Set.
func (w *Webhook) Delete(ctx context.Context) error {
	if err := w.client.Call(ctx, "deleteWebhook", struct{}{}, nil); err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	return nil
}

// Poll hands the updates ServeHTTP receives to b until stop is closed,
// each on a goroutine of its own. It satisfies tele.Poller but, like Poller,
// calls b.ProcessUpdate itself rather than send to dest, for a b that is
// synchronous: telebot would otherwise handle one update at a time.
func (w *Webhook) Poll(b *tele.Bot, _ chan tele.Update, stop chan struct{}) {
	for {
		select {
		case p := <-w.pushes:
			close(p.taken)
			go process(b, p.update, w.log)
		case <-stop:
			return
		}
	}
}

// ServeHTTP takes one update that Telegram pushes.
func (w *Webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(SecretHeader)), []byte(w.secret)) != 1 {
		w.log.Warn("refused a webhook request without the right secret", "remote", r.RemoteAddr)
		http.Error(rw, "unauthorized", http.StatusUnauthorized)
		return
	}
	p := push{taken: make(chan struct{})}
	if err := json.NewDecoder(http.MaxBytesReader(rw, r.Body, maxUpdateSize)).Decode(&p.update); err != nil {
		http.Error(rw, "bad update: "+err.Error(), http.StatusBadRequest)
		return
	}
	timer := time.NewTimer(handOff)
	defer timer.Stop()
	pushes := w.pushes
	for {
		select {
		case pushes <- p:
			pushes = nil // taken by Poll; now wait for telebot
		case <-p.taken:
			rw.WriteHeader(http.StatusOK)
			return
		case <-timer.C:
			w.log.Warn("an update waited too long for the bot; Telegram will push it again", "update", p.update.ID)
			http.Error(rw, "the bot is not taking updates", http.StatusServiceUnavailable)
			return
		case <-r.Context().Done():
			return
		}
	}
}
