package history

import (
	"fmt"
	"image/color"
	"io"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/outagebot/outagebot/checks"
)

// The chart is 1280×720 pixels: 640×360 points at 144 dots per inch, so
// that the fonts' point sizes read well on a phone, and within the 1280
// pixels Telegram keeps of a photo's longer side.
const (
	chartWidth  vg.Length = 640
	chartHeight vg.Length = 360
	chartDPI              = 144
)

// ChartSize is the size of the chart in pixels.
const (
	ChartWidth  = 1280
	ChartHeight = 720
)

// Layout of the chart, in points.
const (
	margin      vg.Length = 8
	titleHeight vg.Length = 22
	bandHeight  vg.Length = 28
	bandGap     vg.Length = 6
)

// latencyBins is at most how many points the latency line has: a month of
// rounds every 30 s is 86,400 samples, far more than the chart has pixels.
const latencyBins = 600

// maxTicks is at most how many labels the time axis has.
const maxTicks = 8

// tickSteps are the spacings the time axis' labels may have, shortest
// first: the first that gives at most maxTicks labels is taken.
func tickSteps() []time.Duration {
	const day = 24 * time.Hour
	return []time.Duration{time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, day, 2 * day, 5 * day, 7 * day}
}

// stateColor is the colour of a state in the chart's band: Operational,
// Degraded, Down, and anything else as no data. The caption's legend names
// them with the squares 🟩 🟧 🟥 ⬜.
func stateColor(s checks.State) color.RGBA {
	switch s {
	case checks.Operational:
		return color.RGBA{R: 46, G: 160, B: 67, A: 255}
	case checks.Degraded:
		return color.RGBA{R: 245, G: 140, B: 0, A: 255}
	case checks.Down:
		return color.RGBA{R: 211, G: 47, B: 47, A: 255}
	}
	// Not a neutral grey: the antialiased edges of black text are, and a
	// test tells the band by its colours.
	return color.RGBA{R: 203, G: 208, B: 216, A: 255}
}

// latencyColor is the colour of the latency line.
func latencyColor() color.RGBA { return color.RGBA{R: 21, G: 101, B: 192, A: 255} }

// ChartOptions says how to draw a history.
type ChartOptions struct {
	// Title is written above the chart, e.g. "WhatsApp · 24h". The chart
	// has no other words, so that it needs no translation: its font has
	// no Arabic or Devanagari letters, and the caption has the legend.
	Title string
	// Zone is the time zone of the time axis; nil means UTC.
	Zone *time.Location
}

// WritePNG draws the history as a PNG of ChartWidth×ChartHeight pixels: a
// band of its timeline (stateColor of each span) above a plot of the
// median probe latency in milliseconds, on one time axis. The same history
// and options give the same bytes.
func (h History) WritePNG(w io.Writer, o ChartOptions) error {
	if !h.From.Before(h.To) {
		return fmt.Errorf("draw history chart: empty window from %s to %s", h.From.Format(time.RFC3339), h.To.Format(time.RFC3339))
	}
	zone := o.Zone
	if zone == nil {
		zone = time.UTC
	}
	img := vgimg.NewWith(vgimg.UseWH(chartWidth, chartHeight), vgimg.UseDPI(chartDPI), vgimg.UseBackgroundColor(color.White))
	dc := draw.Crop(draw.New(img), margin, -margin, margin/2, -margin/2)

	title := textStyle(13)
	title.XAlign, title.YAlign = draw.XCenter, draw.YTop
	dc.FillText(title, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y}, o.Title)

	sp := h.spacing()
	p, err := h.latencyPlot(zone, sp)
	if err != nil {
		return err
	}
	below := draw.Crop(dc, 0, 0, 0, -(titleHeight + bandHeight + bandGap))
	p.Draw(below)

	// The band spans exactly the plot's data area, so that a moment is at
	// the same x in both.
	data := p.DataCanvas(below)
	band := vg.Rectangle{
		Min: vg.Point{X: data.Min.X, Y: below.Max.Y + bandGap},
		Max: vg.Point{X: data.Max.X, Y: below.Max.Y + bandGap + bandHeight},
	}
	x := func(t time.Time) vg.Length {
		return band.Min.X + vg.Length(float64(t.Sub(h.From))/float64(h.To.Sub(h.From)))*(band.Max.X-band.Min.X)
	}
	for _, s := range h.timeline(sp) {
		dc.FillPolygon(stateColor(s.State), []vg.Point{
			{X: x(s.From), Y: band.Min.Y}, {X: x(s.To), Y: band.Min.Y},
			{X: x(s.To), Y: band.Max.Y}, {X: x(s.From), Y: band.Max.Y},
		})
	}

	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		return fmt.Errorf("write history chart: %w", err)
	}
	return nil
}

// textStyle is the chart's font at size points.
func textStyle(size vg.Length) draw.TextStyle {
	return draw.TextStyle{
		Color:   color.Black,
		Font:    font.From(font.Font{Typeface: "Liberation", Variant: "Sans"}, size),
		Handler: plot.DefaultTextHandler,
	}
}

// latencyPlot plots the median latency over the window, in milliseconds,
// on a time axis in zone. The line breaks where nothing was watched, as sp
// tells.
func (h History) latencyPlot(zone *time.Location, sp spacing) (*plot.Plot, error) {
	p := plot.New()
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Tick.Label.Font = textStyle(9).Font
		a.Label.TextStyle.Font = textStyle(10).Font
	}
	p.X.Min, p.X.Max = unix(h.From), unix(h.To)
	p.X.Tick.Marker = timeTicks{zone: zone}
	p.X.Label.Text = zone.String()
	p.Y.Min, p.Y.Max = 0, 100 // raised by the data, if any
	p.Y.Label.Text = "ms"
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = color.Gray{Y: 225}, color.Gray{Y: 225}
	p.Add(grid)
	for _, seg := range h.latencySegments(sp) {
		line, err := plotter.NewLine(seg)
		if err != nil {
			return nil, fmt.Errorf("draw history chart: %w", err)
		}
		line.Color, line.Width = latencyColor(), vg.Points(1.2)
		p.Add(line)
	}
	p.Y.Max *= 1.05 // the highest point must not touch the frame
	return p, nil
}

// latencySegments are the pieces of the latency line: the window cut into
// latencyBins bins (or fewer, as many as the rounds fill), each at the
// median of its rounds' latencies, broken where nothing was measured for
// longer than a gap.
func (h History) latencySegments(sp spacing) []plotter.XYs {
	span := h.To.Sub(h.From)
	bins := latencyBins
	if step := sp.step; step > 0 {
		bins = max(1, min(bins, int(span/step)))
	}
	width := span / time.Duration(bins)
	values := make([][]time.Duration, bins)
	for _, pt := range h.Points {
		if pt.Latency <= 0 || pt.At.Before(h.From) || !pt.At.Before(h.To) {
			continue
		}
		i := min(int(pt.At.Sub(h.From)/width), bins-1)
		values[i] = append(values[i], pt.Latency)
	}
	var segs []plotter.XYs
	var last time.Time
	// Neighbouring bins always join; farther ones only across less than a
	// gap.
	join := max(sp.gap, width)
	for i, vs := range values {
		if len(vs) == 0 {
			continue
		}
		at := h.From.Add(time.Duration(i)*width + width/2)
		if len(segs) == 0 || at.Sub(last) > join {
			segs = append(segs, nil)
		}
		slices.Sort(vs)
		segs[len(segs)-1] = append(segs[len(segs)-1], plotter.XY{X: unix(at), Y: float64(vs[len(vs)/2]) / float64(time.Millisecond)})
		last = at
	}
	return segs
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// timeTicks labels the time axis at round times of its zone: whole hours
// for a short window, midnights for a long one.
type timeTicks struct{ zone *time.Location }

// Ticks implements plot.Ticker.
func (tt timeTicks) Ticks(lo, hi float64) []plot.Tick {
	from, to := time.Unix(0, int64(lo*1e9)).In(tt.zone), time.Unix(0, int64(hi*1e9)).In(tt.zone)
	steps := tickSteps()
	step := steps[len(steps)-1]
	for _, s := range steps {
		if to.Sub(from)/s <= maxTicks {
			step = s
			break
		}
	}
	layout := "15:04"
	if step >= 24*time.Hour {
		layout = "2006-01-02"
	}
	var ticks []plot.Tick
	// Walk wall-clock hours rather than adding durations, so that labels
	// stay on round local times across daylight-saving changes and in
	// zones whose offset is not whole hours.
	y, m, d := from.Date()
	t := time.Date(y, m, d, from.Hour(), 0, 0, 0, tt.zone)
	for ; !t.After(to); t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, tt.zone) {
		if t.Before(from) || !onStep(t, step) {
			continue
		}
		ticks = append(ticks, plot.Tick{Value: unix(t), Label: t.Format(layout)})
	}
	return ticks
}

// onStep reports whether the wall-clock time t is a multiple of step: hours
// divisible by it for steps under a day, else midnights of days counted
// from 1970-01-01 divisible by it.
func onStep(t time.Time, step time.Duration) bool {
	if step < 24*time.Hour {
		return t.Hour()%int(step/time.Hour) == 0
	}
	if t.Hour() != 0 {
		return false
	}
	days := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Unix() / (24 * 60 * 60)
	return days%int64(step/(24*time.Hour)) == 0
}
