package handlers

import (
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/outagebot/outagebot/checks"
	"github.com/outagebot/outagebot/history"
	"github.com/outagebot/outagebot/locale"
	"github.com/outagebot/outagebot/store"
)

// heldHistory is a History whose reads of samples wait until the test lets
// them go, counting those under way.
type heldHistory struct {
	release chan struct{}

	mu     sync.Mutex
	inside int
}

func (*heldHistory) Incidents(string, time.Time) ([]checks.Incident, error) { return nil, nil }

func (h *heldHistory) Samples(string, time.Time, time.Time) ([]store.Sample, error) {
	h.mu.Lock()
	h.inside++
	h.mu.Unlock()
	<-h.release
	h.mu.Lock()
	h.inside--
	h.mu.Unlock()
	return nil, nil
}

func (h *heldHistory) under() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.inside
}

// TestChartRendersAreBounded asks for six different charts at once: two are
// drawn at a time, and the others wait for a slot.
func TestChartRendersAreBounded(t *testing.T) {
	cat := checks.NewCatalog([]checks.Service{{ID: "whatsapp", Name: "WhatsApp"}})
	texts, err := locale.New(cat, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		held := &heldHistory{release: make(chan struct{})}
		h := &handler{Config: Config{History: held, Log: slog.New(slog.DiscardHandler)}, renders: make(chan struct{}, 2)}
		svc, _ := cat.Lookup("whatsapp")
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() {
				zone := time.FixedZone(fmt.Sprintf("UTC+%d", i), i*3600)
				// An empty window: the slot is held from the reading of the
				// samples on, and drawing nothing is quick under -race.
				none := history.Window{Name: "0h"}
				if _, err := h.draw(svc, none, zone, texts.For("en"), time.Now()); err == nil {
					t.Error("an empty window was drawn")
				}
			})
		}
		for left := 6; left > 0; left-- {
			synctest.Wait()
			if got, want := held.under(), min(left, 2); got != want {
				t.Fatalf("%d charts being drawn with %d to go, want %d", got, left, want)
			}
			held.release <- struct{}{}
		}
		wg.Wait()
	})
}
