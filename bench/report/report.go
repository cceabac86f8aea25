package report

import "time"

// FormatVersion is the version of the JSON layout written by Encode.
const FormatVersion = 1

// Report is what one run measured, with enough about how and where it ran
// to reproduce it and to tell whether two runs are comparable.
type Report struct {
	Format   int       `json:"format"`
	Scenario string    `json:"scenario"`          // pubsub, kafka, geo, collections, spot
	Target   string    `json:"target"`            // causeway, nats, redis, ...
	Label    string    `json:"label,omitempty"`   // free text, e.g. "max" or "half-rate"
	Command  string    `json:"command,omitempty"` // the command line that produced it
	Started  time.Time `json:"started"`
	Params   Params    `json:"params"`
	Machine  Machine   `json:"machine"`
	// WindowSeconds is the measured window: from the end of the warm-up to
	// the moment the load stopped.
	WindowSeconds float64 `json:"windowSeconds"`
	// Counts are whole-run totals (warm-up included): sent, acked, received,
	// errors, duplicates, lost, and scenario-specific ones.
	Counts    map[string]int64   `json:"counts"`
	Rates     []Rate             `json:"rates"`
	Latencies []Latency          `json:"latencies"`
	Figures   map[string]float64 `json:"figures,omitempty"` // e.g. convergenceSeconds
	CPU       CPU                `json:"clientCPU"`
	// Errors holds the first few distinct error messages.
	Errors []string `json:"errors,omitempty"`
	Notes  []string `json:"notes,omitempty"`
}

// Params is the workload as configured.
type Params struct {
	MessageBytes     int     `json:"messageBytes"`
	Rate             float64 `json:"rate"` // operations per second in total; 0 = as fast as possible
	DurationSeconds  float64 `json:"durationSeconds,omitempty"`
	Count            int64   `json:"count,omitempty"` // operations in total; 0 = by duration
	WarmupSeconds    float64 `json:"warmupSeconds"`
	Producers        int     `json:"producers,omitempty"`
	Workers          int     `json:"workers,omitempty"` // HTTP clients (collections, spot)
	Consumers        int     `json:"consumers,omitempty"`
	Subscriptions    int     `json:"subscriptions,omitempty"`
	Streams          int     `json:"streams,omitempty"`
	Partitions       int     `json:"partitions,omitempty"`
	SubscriptionType string  `json:"subscriptionType,omitempty"`
	Fsync            string  `json:"fsync,omitempty"`
	// Correction says how latencies at a fixed rate are corrected for
	// coordinated omission.
	Correction string            `json:"correction"`
	Extra      map[string]string `json:"extra,omitempty"` // WAN settings, regions, ...
}

// Machine is where the load generator ran.
type Machine struct {
	Host      string `json:"host"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpuModel,omitempty"`
	GoVersion string `json:"goVersion"`
	// LoadAverage is the machine's 1, 5 and 15 minute load when the run
	// started: other work on the machine weighs on every figure.
	LoadAverage string `json:"loadAverage,omitempty"`
}

// Rate is a throughput over the measured window.
type Rate struct {
	Name        string  `json:"name"` // publish, deliver, write, ...
	PerSec      float64 `json:"perSec"`
	BytesPerSec float64 `json:"bytesPerSec,omitempty"`
}

// Latency is one latency series: its summary over the measured window, its
// distribution and its course over the whole run.
type Latency struct {
	Name         string     `json:"name"` // publish-ack, publish-deliver, lag us-east>eu-west, ...
	Summary      Summary    `json:"summary"`
	Distribution []Quantile `json:"distribution,omitempty"`
	Timeline     []Point    `json:"timeline,omitempty"`
}

// Summary is the usual percentiles, in microseconds.
type Summary struct {
	Count  int64   `json:"count"`
	MinUs  float64 `json:"minUs"`
	MeanUs float64 `json:"meanUs"`
	P50Us  float64 `json:"p50Us"`
	P90Us  float64 `json:"p90Us"`
	P99Us  float64 `json:"p99Us"`
	P999Us float64 `json:"p999Us"`
	MaxUs  float64 `json:"maxUs"`
}

// Quantile is one point of a distribution: Percentile (0..100) of the
// samples were at most Us.
type Quantile struct {
	Percentile float64 `json:"percentile"`
	Us         float64 `json:"us"`
}

// Point is one interval of a timeline; Second is the interval's end, from
// the start of the run (warm-up included).
type Point struct {
	Second float64 `json:"second"`
	Count  int64   `json:"count"`
	P50Us  float64 `json:"p50Us"`
	P99Us  float64 `json:"p99Us"`
	MaxUs  float64 `json:"maxUs"`
}

// CPU is the load generator's own CPU use over the run, so a saturated
// client is visible next to the figures it produced.
type CPU struct {
	UserSeconds   float64 `json:"userSeconds"`
	SystemSeconds float64 `json:"systemSeconds"`
	// Percent is of one core: 200 means two cores fully busy.
	Percent float64 `json:"percent"`
	Cores   int     `json:"cores"`
	// MachineBusyPercent is the whole machine's busy share (0..100) over
	// the run, when known; -1 when not.
	MachineBusyPercent float64 `json:"machineBusyPercent"`
}

// Saturated reports whether the client used most of the machine: its
// figures then say as much about the load generator as about the target.
func (c CPU) Saturated() bool {
	return c.Cores > 0 && c.Percent >= 0.9*100*float64(c.Cores)
}

// Latency returns the series with the given name.
func (r *Report) Latency(name string) (Latency, bool) {
	for _, l := range r.Latencies {
		if l.Name == name {
			return l, true
		}
	}
	return Latency{}, false
}

// Rate returns the rate with the given name.
func (r *Report) Rate(name string) (Rate, bool) {
	for _, x := range r.Rates {
		if x.Name == name {
			return x, true
		}
	}
	return Rate{}, false
}

// Key identifies a report within a set of runs: target and label.
func (r *Report) Key() string {
	if r.Label == "" {
		return r.Target
	}
	return r.Target + "/" + r.Label
}
