package ops

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/outagebot/outagebot/checks"
)

// statusSchema is the version of the status document's schema: it grows
// only when a field changes meaning or goes away, never when one is added.
// docs/api.md describes it.
const statusSchema = 1

// The status document, as encoding/json writes it. Every field is always
// there: values that do not exist are null.
type (
	statusDoc struct {
		Schema      int       `json:"schema"`
		GeneratedAt time.Time `json:"generated_at"`
		// Offline is true while this machine's own network fails, and
		// OfflineSince says since when.
		Offline      bool            `json:"offline"`
		OfflineSince *time.Time      `json:"offline_since"`
		Services     []serviceStatus `json:"services"`
	}
	serviceStatus struct {
		ID        string        `json:"id"`
		Name      string        `json:"name"`
		State     checks.State  `json:"state"`
		Announced *checks.State `json:"announced"`
		Since     *time.Time    `json:"since"`
		LastCheck *time.Time    `json:"last_check"`
		Incident  *openIncident `json:"incident"`
		Evidence  []evidence    `json:"evidence"`
		Official  *string       `json:"official"`
		Reports   *reports      `json:"reports"`
	}
	openIncident struct {
		ID    uint64    `json:"id"`
		Start time.Time `json:"start"`
		// Group is the id of the first incident of the Meta-wide outage
		// this one is part of.
		Group *uint64 `json:"group"`
	}
	evidence struct {
		Probe  string       `json:"probe"`
		Class  checks.Class `json:"class"`
		Detail string       `json:"detail"`
	}
	reports struct {
		Count         int     `json:"count"`
		Usual         float64 `json:"usual"`
		WindowSeconds int     `json:"window_seconds"`
		Spike         bool    `json:"spike"`
	}
)

// StatusHandler serves the state of every watched service as JSON, in the
// schema docs/api.md describes. Its weak ETag covers everything but the
// time the document was generated, so that a client polling between two
// probe rounds gets a 304.
func (p *Public) StatusHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := p.status()
		if err != nil {
			p.failed(w, "the status document", err)
			return
		}
		d.serve(w, r)
	})
}

func (p *Public) status() (document, error) {
	statuses, err := p.o.DB.Statuses()
	if err != nil {
		return document{}, fmt.Errorf("read the services' states: %w", err)
	}
	vantage, err := p.o.DB.Vantage()
	if err != nil {
		return document{}, fmt.Errorf("read whether this machine is offline: %w", err)
	}
	doc := statusDoc{Schema: statusSchema, Offline: vantage.Offline, Services: make([]serviceStatus, len(p.o.Services))}
	if vantage.Offline {
		doc.OfflineSince = utcSecond(vantage.Since)
	}
	for i, s := range p.o.Services {
		out := serviceStatus{ID: s.ID, Name: s.Name, State: checks.Unknown, Evidence: []evidence{}}
		if st, ok := statuses[s.ID]; ok {
			out = checked(out, st)
		}
		// An incident stays open across a restart, before the first
		// round has checked the service again.
		inc, open, err := p.o.DB.OpenIncident(s.ID)
		if err != nil {
			return document{}, fmt.Errorf("read the open incident of %s: %w", s.ID, err)
		}
		if open {
			out.Incident = &openIncident{ID: inc.ID, Start: inc.Start.UTC().Truncate(time.Second)}
			if inc.Group != 0 {
				out.Incident.Group = &inc.Group
			}
		}
		doc.Services[i] = out
	}
	meaning, err := json.Marshal(doc)
	if err != nil {
		return document{}, fmt.Errorf("write the status document: %w", err)
	}
	doc.GeneratedAt = p.o.Now().UTC().Truncate(time.Second)
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return document{}, fmt.Errorf("write the status document: %w", err)
	}
	return document{
		body:        append(body, '\n'),
		contentType: "application/json",
		etag:        etagOf(meaning, true),
		maxAge:      publicMaxAge,
	}, nil
}

// checked fills out with what the detector knows of a service it checked.
func checked(out serviceStatus, st checks.Status) serviceStatus {
	out.State = st.State
	if st.Announced != "" {
		out.Announced = &st.Announced
	}
	out.Since = utcSecond(st.Since)
	out.LastCheck = utcSecond(st.LastCheck)
	for _, r := range st.Evidence {
		out.Evidence = append(out.Evidence, evidence{Probe: r.Probe, Class: r.Class, Detail: r.Detail})
	}
	if st.Official != "" {
		out.Official = &st.Official
	}
	if r := st.Reports; r.Count > 0 {
		out.Reports = &reports{Count: r.Count, Usual: math.Round(r.Baseline*100) / 100,
			WindowSeconds: int(time.Duration(r.Window) / time.Second), Spike: r.Spike}
	}
	return out
}

// utcSecond is t in UTC to the second, or nil when it is zero.
func utcSecond(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Second)
	return &t
}
