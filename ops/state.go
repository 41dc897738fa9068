package ops

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/outagebot/outagebot/checks"
)

// stateCollector reads the services' states and the outbox from the
// database at scrape time: they are what the database says, and keeping a
// copy up to date would only risk it drifting.
type stateCollector struct {
	db         DB
	state      *prometheus.Desc
	unverified *prometheus.Desc
	outbox     *prometheus.Desc
}

func newStateCollector(db DB) stateCollector {
	return stateCollector{
		db: db,
		state: prometheus.NewDesc("outagebot_service_state",
			"1 for the state a service is in (what /status shows), 0 for the others.",
			[]string{"service", "state"}, nil),
		unverified: prometheus.NewDesc("outagebot_probe_unverified",
			"1 for a probe that has not yet answered as expected from this machine, and so is not used as evidence; 0 once it has.",
			[]string{"service", "probe"}, nil),
		outbox: prometheus.NewDesc("outagebot_outbox_pending_chats",
			"Chats with notifications waiting to be sent.", nil, nil),
	}
}

func (s stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- s.state
	ch <- s.unverified
	ch <- s.outbox
}

func (s stateCollector) Collect(ch chan<- prometheus.Metric) {
	if statuses, err := s.db.Statuses(); err != nil {
		ch <- prometheus.NewInvalidMetric(s.state, err)
	} else {
		states := []checks.State{checks.Operational, checks.Suspected, checks.Degraded,
			checks.Down, checks.Recovering, checks.Unknown}
		for service, st := range statuses {
			for _, state := range states {
				v := 0.0
				if st.State == state {
					v = 1
				}
				ch <- prometheus.MustNewConstMetric(s.state, prometheus.GaugeValue, v, service, string(state))
			}
			for probe, t := range st.Probes {
				v := 1.0
				if t.Proven {
					v = 0
				}
				ch <- prometheus.MustNewConstMetric(s.unverified, prometheus.GaugeValue, v, service, probe)
			}
		}
	}
	if n, err := s.db.OutboxLen(); err != nil {
		ch <- prometheus.NewInvalidMetric(s.outbox, err)
	} else {
		ch <- prometheus.MustNewConstMetric(s.outbox, prometheus.GaugeValue, float64(n))
	}
}
