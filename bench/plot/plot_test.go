package plot

import (
	"bytes"
	"errors"
	"image/png"
	"testing"

	"github.com/causeway/causeway/bench/report"
)

func TestWritePNG(t *testing.T) {
	r := report.Report{Format: 1, Scenario: "pubsub", Target: "causeway", Latencies: []report.Latency{{
		Name:         "publish-deliver",
		Summary:      report.Summary{Count: 3, P99Us: 900},
		Distribution: []report.Quantile{{Percentile: 0, Us: 100}, {Percentile: 50, Us: 500}, {Percentile: 99.9, Us: 900}, {Percentile: 100, Us: 1000}},
		Timeline:     []report.Point{{Second: 1, Count: 2, P99Us: 800}, {Second: 2, Count: 1, P99Us: 0}},
	}, {Name: "empty"}}}
	other := r
	other.Target = "nats"
	var b bytes.Buffer
	if err := WritePNG(&b, []report.Report{r, other}, nil); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != 14*dpi || h != 5*dpi {
		t.Errorf("picture %dx%d", w, h)
	}
	if err := WritePNG(&b, []report.Report{r}, []string{"no such series"}); !errors.Is(err, ErrNothingToPlot) {
		t.Errorf("nothing to plot: %v", err)
	}
	// A series with only a timeline still draws (the other panel stays blank).
	r.Latencies[0].Distribution = nil
	if err := WritePNG(&b, []report.Report{r}, nil); err != nil {
		t.Errorf("timeline only: %v", err)
	}
}
