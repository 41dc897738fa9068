package history

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outagebot/outagebot/checks"
)

// render draws hist and decodes the PNG.
func render(t *testing.T, hist History) ([]byte, *image.RGBA) {
	t.Helper()
	var buf bytes.Buffer
	if err := hist.WritePNG(&buf, ChartOptions{Title: "WhatsApp · 24h"}); err != nil {
		t.Fatalf("WritePNG: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("the chart is no PNG: %v", err)
	}
	// Pixels are compared as bytes: through image.At a scan of the whole
	// chart takes seconds under the race detector.
	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
	return buf.Bytes(), rgba
}

// is reports whether the pixel at x, y is exactly c.
func is(img *image.RGBA, x, y int, c color.RGBA) bool {
	i := img.PixOffset(x, y)
	return bytes.Equal(img.Pix[i:i+4], []byte{c.R, c.G, c.B, c.A})
}

// where returns the smallest rectangle holding every pixel of one of the
// colours, and how many there are.
func where(img *image.RGBA, colors ...color.RGBA) (image.Rectangle, int) {
	var box image.Rectangle
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			for _, c := range colors {
				if is(img, x, y, c) {
					box = box.Union(image.Rect(x, y, x+1, y+1))
					n++
				}
			}
		}
	}
	return box, n
}

// TestChartBand checks the band's colours at known times, and that the
// drawing is deterministic.
func TestChartBand(t *testing.T) {
	t.Parallel() // drawing is slow under the race detector
	const day = 24 * time.Hour
	h := time.Hour
	hist := History{
		From: ago(day), To: t0,
		// Nothing watched for the first two hours.
		Points: rounds(ago(22*h), t0, 80*time.Millisecond),
		Incidents: []checks.Incident{
			resolved(checks.Degraded, ago(18*h), ago(16*h)),
			open(checks.Down, checks.Down, ago(6*h)),
		},
	}
	first, img := render(t, hist)
	if again, _ := render(t, hist); !bytes.Equal(first, again) {
		t.Errorf("two drawings of one history differ (%d and %d bytes)", len(first), len(again))
	}
	if got := img.Bounds().Size(); got != image.Pt(ChartWidth, ChartHeight) {
		t.Fatalf("chart size = %v, want %dx%d", got, ChartWidth, ChartHeight)
	}
	// Nothing else in the chart has the band's colours.
	band, _ := where(img, stateColor(checks.Operational), stateColor(checks.Degraded),
		stateColor(checks.Down), stateColor(checks.Unknown))
	if band.Dx() < ChartWidth/2 || band.Dy() < 10 || band.Max.Y > ChartHeight/3 {
		t.Fatalf("band at %v: want it wide, at the top of the %dx%d chart", band, ChartWidth, ChartHeight)
	}
	mid := (band.Min.Y + band.Max.Y) / 2
	for _, tc := range []struct {
		at   time.Duration // before t0
		want checks.State
	}{
		{23 * h, checks.Unknown},
		{20 * h, checks.Operational},
		{17 * h, checks.Degraded},
		{12 * h, checks.Operational},
		{3 * h, checks.Down},
		{10 * time.Minute, checks.Down},
	} {
		frac := float64(day-tc.at) / float64(day)
		x := band.Min.X + int(frac*float64(band.Dx()))
		if !is(img, x, mid, stateColor(tc.want)) {
			t.Errorf("band colour %v before the end (x=%d) = %v, want %s's %v", tc.at, x, img.At(x, mid), tc.want, stateColor(tc.want))
		}
	}
}

func TestChartLatencyLine(t *testing.T) {
	t.Parallel() // drawing is slow under the race detector
	tests := []struct {
		name    string
		points  []Point
		minimum int // pixels of the line's colour
		maximum int
	}{
		{"measured", rounds(ago(24*time.Hour), t0, 80*time.Millisecond), 500, ChartWidth * ChartHeight},
		{"nothing succeeded", rounds(ago(24*time.Hour), t0, 0), 0, 0},
		{"no rounds", nil, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, img := render(t, History{From: ago(24 * time.Hour), To: t0, Points: tc.points})
			if _, n := where(img, latencyColor()); n < tc.minimum || n > tc.maximum {
				t.Errorf("%d pixels of the latency line's colour, want %d to %d", n, tc.minimum, tc.maximum)
			}
		})
	}
}

func TestChartRejectsEmptyWindow(t *testing.T) {
	var buf bytes.Buffer
	if err := (History{From: t0, To: t0}).WritePNG(&buf, ChartOptions{}); err == nil {
		t.Error("WritePNG of an empty window succeeded")
	}
}

func TestTimeTicks(t *testing.T) {
	// India is 5:30 ahead of UTC: labels must still fall on its round hours.
	india := time.FixedZone("IST", 5*3600+1800)
	end := time.Date(2026, 3, 5, 14, 7, 0, 0, time.UTC)
	tests := []struct {
		window time.Duration
		want   []string
	}{
		{24 * time.Hour, []string{"21:00", "00:00", "03:00", "06:00", "09:00", "12:00", "15:00", "18:00"}},
		{7 * 24 * time.Hour, []string{"2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"}},
		{30 * 24 * time.Hour, []string{"2026-02-06", "2026-02-11", "2026-02-16", "2026-02-21", "2026-02-26", "2026-03-03"}},
	}
	for _, tc := range tests {
		t.Run(tc.window.String(), func(t *testing.T) {
			var got []string
			for _, tick := range (timeTicks{zone: india}).Ticks(unix(end.Add(-tc.window)), unix(end)) {
				got = append(got, tick.Label)
				if at := time.Unix(int64(tick.Value), 0).In(india); at.Minute() != 0 {
					t.Errorf("tick %q at %v, not on a whole hour of its zone", tick.Label, at)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("tick labels (-want +got):\n%s", diff)
			}
		})
	}
}
