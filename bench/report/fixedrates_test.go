package report

import (
	"slices"
	"strings"
	"testing"
)

func TestParseRates(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []float64
		wantErr bool
	}{
		{"", nil, false},
		{"10000", []float64{10000}, false},
		{"10k, 40K,half-slowest", []float64{10000, 40000, -1}, false},
		{"2.5k", []float64{2500}, false},
		{"0", nil, true},
		{"-5", nil, true},
		{"fast", nil, true},
		{"10k,", nil, true},
		{"NaN", nil, true},
		{"2e9", nil, true},
	} {
		got, err := ParseRates(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseRates(%q): err %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("ParseRates(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestWriteFixedRates(t *testing.T) {
	c10, n10 := sample("causeway", 10000, 1000), sample("nats", 10000, 4000)
	c40, n40 := sample("causeway", 39000, 3000), sample("nats", 40000, 1500)
	n40.Counts["missing"] = 2
	c10.Latencies[0].Summary.P50Us, n10.Latencies[0].Summary.P50Us = 100, 400
	c40.Latencies[0].Summary.P50Us, n40.Latencies[0].Summary.P50Us = 300, 150
	var b strings.Builder
	err := WriteFixedRates(&b, []FixedRun{
		{Target: "causeway", Rate: 10000, Report: &c10}, {Target: "nats", Rate: 10000, Report: &n10},
		{Target: "causeway", Rate: 40000, Report: &c40}, {Target: "nats", Rate: 40000, Report: &n40},
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines:\n%s", len(lines), b.String())
	}
	// at rate, target, delivered, p50, p99, p99.9, p50 ÷ best, p99 ÷ best, errors+missing
	for i, want := range [][]string{
		{"10,000/s", "causeway", "10,000", "100µs", "1.00ms", "2.00ms", "1.00x", "1.00x", "0"},
		{"10,000/s", "nats", "10,000", "400µs", "4.00ms", "8.00ms", "4.00x", "4.00x", "0"},
		{"40,000/s", "causeway", "39,000", "300µs", "3.00ms", "6.00ms", "2.00x", "2.00x", "0"},
		{"40,000/s", "nats", "40,000", "150µs", "1.50ms", "3.00ms", "1.00x", "1.00x", "2"},
	} {
		if got := strings.Fields(lines[i+1]); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("row %d %q, want %q", i, got, want)
		}
	}
}
