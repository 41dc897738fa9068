package handlers

import (
	"bytes"
	"fmt"
	"time"

	tele "gopkg.in/telebot.v3"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/history"
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

// showHistory handles /history <service> [window]: a chart of the service's
// states and probe latency over the window (24h when not given), with its
// uptime and incidents in the caption. Anyone may ask, in any chat.
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
	now := h.Now()
	past, err := h.past(svc.ID, now.Add(-w.Length), now)
	if err != nil {
		return h.fail(c, err)
	}
	var chart bytes.Buffer
	if err := past.WritePNG(&chart, history.ChartOptions{Title: svc.Name + " · " + w.Name, Zone: p.Location()}); err != nil {
		return h.fail(c, err)
	}
	return h.send(c, &tele.Photo{File: tele.FromReader(&chart), Caption: p.HistoryCaption(svc.ID, w, past.Stats())})
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
