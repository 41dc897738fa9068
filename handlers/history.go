package handlers

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/history"
	"github.com/outagebot/outagebot/locale"
	"github.com/outagebot/outagebot/store"
)

// History is the services' past, as /history charts it.
type History interface {
	// Incidents returns the service's incidents that were open at some
	// moment at or after since.
	Incidents(service string, since time.Time) ([]checks.Incident, error)
	// Samples returns what the rounds measured of the service from from
	// to to, oldest first.
	Samples(service string, from, to time.Time) ([]store.Sample, error)
}

// chart is a /history answer: the chart and its caption.
type chart struct {
	png     []byte
	caption string
}

// maxCharts bounds the charts kept for a round. One is about 100 kB, and a
// round is too short for many people to ask about many services, windows,
// zones and languages at once.
const maxCharts = 64

// showHistory handles /history <service> [window]: a chart of the service's
// states and probe latency over the window (24h when not given) up to the
// last round, on the clock of the chat's time zone, with its uptime and
// incidents in the caption. Anyone may ask, in any chat. Each chart is
// drawn once per round, time zone and language (see perRound), and at most
// Config.ChartRenders at once.
func (h *handler) showHistory(c tele.Context) error {
	p := h.text(c)
	a := args(c.Text())
	if len(a) == 0 {
		return h.send(c, p.HistoryUsage())
	}
	svc, ok := h.Catalog.Lookup(a[0])
	if !ok {
		return h.send(c, p.HistoryUnknownService(a[0]))
	}
	w := history.Windows()[0]
	if len(a) > 1 {
		if w, ok = history.ParseWindow(a[1]); !ok {
			return h.send(c, p.HistoryBadWindow(a[1]))
		}
	}
	zone := h.chartZone(c, p)
	r, err := h.lastRound()
	if err != nil {
		return h.fail(c, err)
	}
	key := strings.Join([]string{svc.ID, w.Name, zone.String(), p.Tag()}, " ")
	ch, err := h.charts.get(r.id, key, func() (chart, error) {
		return h.draw(svc, w, zone, p, r.at)
	})
	if err != nil {
		return h.fail(c, err)
	}
	photo := &tele.Photo{File: tele.FromReader(bytes.NewReader(ch.png)), Caption: ch.caption}
	return h.sendShared(c, "chart "+r.id+key, photo)
}

// chartZone is the time zone of the chart for the chat of c: the one it
// chose with /settings tz, else the one the texts show times in.
func (h *handler) chartZone(c tele.Context, p *locale.Printer) *time.Location {
	st, err := h.Prefs.Settings(c.Chat().ID)
	if err != nil {
		h.Log.Warn("cannot read the chat's time zone; charting in the default one", "chat", chatID(c), h.errAttr(err))
		return p.Location()
	}
	if st.TimeZone == "" {
		return p.Location()
	}
	zone, err := st.Location()
	if err != nil {
		h.Log.Warn("the chat's time zone does not load; charting in the default one", "chat", chatID(c), h.errAttr(err))
		return p.Location()
	}
	return zone
}

// draw draws the chart of svc over the window w up to the moment to, in
// zone and p's language, once one of the render slots is free: a month of
// rounds takes tens of megabytes while it is drawn.
func (h *handler) draw(svc checks.Service, w history.Window, zone *time.Location, p *locale.Printer, to time.Time) (chart, error) {
	h.renders <- struct{}{}
	defer func() { <-h.renders }()
	start := time.Now()
	past, err := h.past(svc.ID, to.Add(-w.Length), to)
	if err != nil {
		return chart{}, err
	}
	var png bytes.Buffer
	if err := past.WritePNG(&png, history.ChartOptions{Title: svc.Name + " · " + w.Name, Zone: zone}); err != nil {
		return chart{}, err
	}
	h.Log.Debug("drew a history chart", "service", svc.ID, "window", w.Name, "zone", zone.String(),
		"lang", p.Tag(), "rounds", len(past.Points), "bytes", png.Len(), "took", time.Since(start))
	return chart{png: png.Bytes(), caption: p.HistoryCaption(svc.ID, w, past.Stats())}, nil
}

// past reads what is known of the service from from to to.
func (h *handler) past(service string, from, to time.Time) (history.History, error) {
	incs, err := h.History.Incidents(service, from)
	if err != nil {
		return history.History{}, fmt.Errorf("history of %s: %w", service, err)
	}
	samples, err := h.History.Samples(service, from, to)
	if err != nil {
		return history.History{}, fmt.Errorf("history of %s: %w", service, err)
	}
	points := make([]history.Point, len(samples))
	for i, s := range samples {
		points[i] = history.Point{At: s.At, Latency: s.Latency}
	}
	return history.History{From: from, To: to, Incidents: incs, Points: points}, nil
}
