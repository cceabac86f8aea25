package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// maxReportBytes bounds a report file read by Decode.
const maxReportBytes = 64 << 20

// ErrInvalid is wrapped by every Decode error about the content of a file.
var ErrInvalid = errors.New("report: invalid report")

// Encode writes r as indented JSON, setting its format version.
func Encode(w io.Writer, r Report) error {
	r.Format = FormatVersion
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("report: encode: %w", err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("report: write: %w", err)
	}
	return nil
}

// Decode reads one report written by Encode and checks it: the format
// version, a scenario, and no negative or out-of-range figures.
func Decode(rd io.Reader) (Report, error) {
	var r Report
	b, err := io.ReadAll(io.LimitReader(rd, maxReportBytes+1))
	if err != nil {
		return r, fmt.Errorf("report: read: %w", err)
	}
	if len(b) > maxReportBytes {
		return r, fmt.Errorf("%w: larger than %d bytes", ErrInvalid, maxReportBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&r); err != nil {
		return Report{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if dec.More() {
		return Report{}, fmt.Errorf("%w: data after the report", ErrInvalid)
	}
	if err := r.Validate(); err != nil {
		return Report{}, err
	}
	return r, nil
}

// Validate reports the first thing wrong with r.
func (r *Report) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	switch {
	case r.Format != FormatVersion:
		return bad("format %d, want %d", r.Format, FormatVersion)
	case r.Scenario == "":
		return bad("no scenario")
	case !finiteNonNeg(r.WindowSeconds):
		return bad("window %v seconds", r.WindowSeconds)
	case !finiteNonNeg(r.Params.Rate) || r.Params.MessageBytes < 0 || r.Params.Count < 0:
		return bad("params: negative rate, size or count")
	}
	for k, v := range r.Counts {
		if v < 0 {
			return bad("count %s is negative", k)
		}
	}
	for _, x := range r.Rates {
		if x.Name == "" || !finiteNonNeg(x.PerSec) || !finiteNonNeg(x.BytesPerSec) {
			return bad("rate %q: %v/s, %v B/s", x.Name, x.PerSec, x.BytesPerSec)
		}
	}
	seen := make(map[string]bool, len(r.Latencies))
	for _, l := range r.Latencies {
		if l.Name == "" || seen[l.Name] {
			return bad("latency series %q: empty or repeated name", l.Name)
		}
		seen[l.Name] = true
		s := l.Summary
		for _, v := range []float64{s.MinUs, s.MeanUs, s.P50Us, s.P90Us, s.P99Us, s.P999Us, s.MaxUs} {
			if !finiteNonNeg(v) {
				return bad("latency %s: value %v", l.Name, v)
			}
		}
		if s.Count < 0 {
			return bad("latency %s: count %d", l.Name, s.Count)
		}
		for _, q := range l.Distribution {
			if !finiteNonNeg(q.Us) || !(q.Percentile >= 0 && q.Percentile <= 100) {
				return bad("latency %s: quantile %v at %v%%", l.Name, q.Us, q.Percentile)
			}
		}
		for _, p := range l.Timeline {
			if !finiteNonNeg(p.Second) || p.Count < 0 || !finiteNonNeg(p.P50Us) || !finiteNonNeg(p.P99Us) || !finiteNonNeg(p.MaxUs) {
				return bad("latency %s: timeline point at %v s", l.Name, p.Second)
			}
		}
	}
	for k, v := range r.Figures {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return bad("figure %s is %v", k, v)
		}
	}
	return nil
}

func finiteNonNeg(v float64) bool { return v >= 0 && !math.IsInf(v, 0) }
