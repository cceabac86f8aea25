package streamworkers

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Errors of the package. Each is wrapped with context where it is
// returned; the HTTP API maps them to statuses (http.go).
var (
	ErrBadRequest    = errors.New("streamworkers: bad request")
	ErrNotFound      = errors.New("streamworkers: stream worker not found")
	ErrExists        = errors.New("streamworkers: a stream worker with this name exists")
	ErrConflict      = errors.New("streamworkers: the definition changed meanwhile; read it and retry")
	ErrFabricMissing = errors.New("streamworkers: fabric not found")
	ErrUnavailable   = errors.New("streamworkers: unavailable")
)

// Bounds of a definition.
const (
	maxNameBytes  = 48       // leaves room for "-errors" and the producer name
	maxQueryBytes = 64 << 10 // one query's text
	maxRegions    = 64       // a pin list
	maxPinBytes   = 64       // one region name
	maxStartBytes = len("earliest")
)

// Definition is one stream worker of a fabric: what the HTTP API shows and
// the document kept in the fabric's _streamapps collection (its _key is
// Name).
type Definition struct {
	Name string `json:"name"`
	// Query is the worker's streaming SQL (streamworkers/engine/LANGUAGE.md).
	Query string `json:"definition"`
	// Regions pins the worker to these regions of the fabric (empty: every
	// region runs it).
	Regions []string `json:"regions"`
	Active  bool     `json:"isActive"`
	// Version starts at 1 and grows by one with every update.
	Version int64 `json:"version"`
	// Start is where a worker without a checkpoint begins reading its
	// inputs: "earliest" (default) or "latest".
	Start string `json:"start"`
	// Limits bound the worker's engine (0: the node's defaults).
	Limits LimitsSpec `json:"limits"`
	// CreatedAt and UpdatedAt are Unix milliseconds. CreatedAt also names
	// the worker's producers, so a worker deleted and created again under
	// the same name does not collide with its predecessor's sequence ids.
	CreatedAt int64 `json:"createdAt"`
	UpdatedAt int64 `json:"updatedAt"`
}

// LimitsSpec are a definition's engine limits (0: the node's default; a
// value above the node's maximum is refused).
type LimitsSpec struct {
	MaxStateBytes int64 `json:"maxStateBytes,omitempty"`
	MaxWindows    int   `json:"maxWindows,omitempty"`
}

// Input is what create and update take (the body of POST and PUT).
// Macrometa's field is "definition"; "query" is accepted too.
type Input struct {
	Name       string      `json:"name"`
	Definition string      `json:"definition"`
	Query      string      `json:"query"`
	Regions    []string    `json:"regions"`
	IsActive   *bool       `json:"isActive"`
	Start      string      `json:"start"`
	Limits     *LimitsSpec `json:"limits"`
}

// query is the input's query text, from either field.
func (in Input) query() (string, error) {
	switch {
	case in.Definition != "" && in.Query != "" && in.Definition != in.Query:
		return "", fmt.Errorf("%w: give the query in \"definition\" or \"query\", not two different ones", ErrBadRequest)
	case in.Definition != "":
		return in.Definition, nil
	case in.Query != "":
		return in.Query, nil
	}
	return "", fmt.Errorf("%w: the query is missing (\"definition\" or \"query\")", ErrBadRequest)
}

// ValidateName checks a worker's name: 1 to 48 bytes, a letter first, then
// letters, digits, '_' or '-' (it names the worker's error stream and its
// document key).
func ValidateName(name string) error {
	if name == "" || len(name) > maxNameBytes {
		return fmt.Errorf("%w: stream worker name %q: want 1 to %d bytes", ErrBadRequest, name, maxNameBytes)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '_' || c == '-')) {
			return fmt.Errorf("%w: stream worker name %q: byte %d not allowed (a letter first, then letters, digits, '_' or '-')", ErrBadRequest, name, i)
		}
	}
	return nil
}

// checkRegions validates a pin list against the fabric's regions and
// returns it sorted without duplicates.
func checkRegions(pin, fabric []string) ([]string, error) {
	if len(pin) > maxRegions {
		return nil, fmt.Errorf("%w: %d regions, the limit is %d", ErrBadRequest, len(pin), maxRegions)
	}
	out := make([]string, 0, len(pin))
	for _, r := range pin {
		if r == "" || len(r) > maxPinBytes {
			return nil, fmt.Errorf("%w: region name %q: want 1 to %d bytes", ErrBadRequest, r, maxPinBytes)
		}
		if len(fabric) > 0 && !slices.Contains(fabric, r) {
			return nil, fmt.Errorf("%w: region %q is not a region of the fabric (%s)", ErrBadRequest, r, strings.Join(fabric, ", "))
		}
		out = append(out, r)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// checkStart validates the start position ("" means earliest).
func checkStart(s string) (string, error) {
	switch s {
	case "", "earliest":
		return "earliest", nil
	case "latest":
		return s, nil
	}
	if len(s) > maxStartBytes {
		s = s[:maxStartBytes] + "..."
	}
	return "", fmt.Errorf("%w: start %q: want earliest or latest", ErrBadRequest, s)
}

// checkLimits refuses limits that are negative or above the node's.
func checkLimits(l LimitsSpec, max Limits) (LimitsSpec, error) {
	if l.MaxStateBytes < 0 || l.MaxWindows < 0 {
		return l, fmt.Errorf("%w: limits must not be negative", ErrBadRequest)
	}
	if l.MaxStateBytes > max.MaxStateBytes {
		return l, fmt.Errorf("%w: maxStateBytes %d is above this node's maximum %d", ErrBadRequest, l.MaxStateBytes, max.MaxStateBytes)
	}
	if l.MaxWindows > max.MaxWindows {
		return l, fmt.Errorf("%w: maxWindows %d is above this node's maximum %d", ErrBadRequest, l.MaxWindows, max.MaxWindows)
	}
	return l, nil
}

// RunsIn reports whether region runs the definition (active, and pinned to
// it or to nothing).
func (d Definition) RunsIn(region string) bool {
	return d.Active && (len(d.Regions) == 0 || slices.Contains(d.Regions, region))
}

// ErrorStream is the name of the worker's error stream in its fabric.
func ErrorStream(worker string) string { return worker + "-errors" }
