package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/causeway/causeway/broker/naming"
)

// Fabric bounds.
const (
	maxFabricBytes = 1 << 20
	maxRegions     = 128
)

// ErrInvalidFabric is wrapped by every fabric description error.
var ErrInvalidFabric = errors.New("geo: invalid fabric description")

// Region is one region of a fabric as the bench reaches it.
type Region struct {
	Name  string
	HTTP  string // base URL, http://host:port
	Kafka string // host:port, "" when unknown
}

// Fabric is the regions of a fabric and the emulated WAN between them.
type Fabric struct {
	Regions []Region
	// WAN is the emulated WAN settings as the description gives them
	// (compact JSON), "" when none.
	WAN string
	// Token is a credential the description hands out (causeway dev's
	// superuser key), "" when none.
	Token string
}

// Region returns the region called name.
func (f Fabric) Region(name string) (Region, bool) {
	for _, r := range f.Regions {
		if r.Name == name {
			return r, true
		}
	}
	return Region{}, false
}

// Names lists the regions' names in order.
func (f Fabric) Names() []string {
	out := make([]string, len(f.Regions))
	for i, r := range f.Regions {
		out[i] = r.Name
	}
	return out
}

// Accepted spellings of a region's fields in fabric.json.
var (
	nameKeys  = []string{"name", "region"}
	httpKeys  = []string{"http", "httpAddr", "httpURL", "url", "ws", "addr"}
	kafkaKeys = []string{"kafka", "kafkaAddr"}
	wanKeys   = []string{"wan", "WAN", "links"}
	tokenKeys = []string{"adminKey", "apiKey", "token"}
)

// ParseFabric reads a fabric description: an object whose "regions" is
// either a list of {"name", "http", "kafka", ...} objects or an object
// keyed by region name; "http" may be host:port or a URL. A "wan" member is
// kept as the WAN settings. Unknown members are ignored.
func ParseFabric(b []byte) (Fabric, error) {
	var f Fabric
	if len(b) > maxFabricBytes {
		return f, fmt.Errorf("%w: larger than %d bytes", ErrInvalidFabric, maxFabricBytes)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return f, fmt.Errorf("%w: %w", ErrInvalidFabric, err)
	}
	raw, ok := top["regions"]
	if !ok {
		return f, fmt.Errorf("%w: no \"regions\"", ErrInvalidFabric)
	}
	var list []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		var byName map[string]map[string]json.RawMessage
		if err2 := json.Unmarshal(raw, &byName); err2 != nil {
			return f, fmt.Errorf("%w: regions: want a list or an object of regions", ErrInvalidFabric)
		}
		for _, name := range slices.Sorted(func(yield func(string) bool) {
			for k := range byName {
				if !yield(k) {
					return
				}
			}
		}) {
			m := byName[name]
			if m == nil {
				m = map[string]json.RawMessage{}
			}
			if _, ok := m["name"]; !ok {
				q, _ := json.Marshal(name)
				m["name"] = q
			}
			list = append(list, m)
		}
	}
	for i, m := range list {
		r, err := parseRegion(m)
		if err != nil {
			return Fabric{}, fmt.Errorf("%w: region %d: %w", ErrInvalidFabric, i, err)
		}
		f.Regions = append(f.Regions, r)
	}
	tok, err := firstString(top, tokenKeys)
	if err != nil {
		return Fabric{}, fmt.Errorf("%w: %w", ErrInvalidFabric, err)
	}
	f.Token = tok
	for _, k := range wanKeys {
		if w, ok := top[k]; ok {
			var c bytes.Buffer
			if err := json.Compact(&c, w); err == nil {
				f.WAN = c.String()
			}
			break
		}
	}
	return f, f.Validate()
}

func parseRegion(m map[string]json.RawMessage) (Region, error) {
	var r Region
	var err error
	if r.Name, err = firstString(m, nameKeys); err != nil {
		return r, err
	}
	if r.HTTP, err = firstString(m, httpKeys); err != nil {
		return r, err
	}
	if r.Kafka, err = firstString(m, kafkaKeys); err != nil {
		return r, err
	}
	if r.HTTP, err = normalizeURL(r.HTTP); err != nil {
		return r, err
	}
	return r, nil
}

// firstString returns the first of keys present in m, which must be a
// string; "" when none is.
func firstString(m map[string]json.RawMessage, keys []string) (string, error) {
	for _, k := range keys {
		if v, ok := m[k]; ok {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return "", fmt.Errorf("%s: want a string", k)
			}
			return s, nil
		}
	}
	return "", nil
}

// normalizeURL accepts host:port or an http(s)/ws(s) URL and returns
// http(s)://host:port[/path].
func normalizeURL(s string) (string, error) {
	if s == "" {
		return "", errors.New("no HTTP address")
	}
	if !strings.Contains(s, "://") {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return "", fmt.Errorf("HTTP address %q: %w", s, err)
		}
		return "http://" + s, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("HTTP address %q: %w", s, err)
	}
	switch u.Scheme {
	case "http", "https":
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	default:
		return "", fmt.Errorf("HTTP address %q: scheme %q", s, u.Scheme)
	}
	if u.Host == "" {
		return "", fmt.Errorf("HTTP address %q: no host", s)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// ParseRegions reads "name=URL,name=URL" (URL as in fabric.json).
func ParseRegions(s string) (Fabric, error) {
	var f Fabric
	for _, part := range strings.Split(s, ",") {
		name, addr, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return f, fmt.Errorf("%w: %q: want name=URL", ErrInvalidFabric, part)
		}
		u, err := normalizeURL(addr)
		if err != nil {
			return f, fmt.Errorf("%w: region %s: %w", ErrInvalidFabric, name, err)
		}
		f.Regions = append(f.Regions, Region{Name: name, HTTP: u})
	}
	return f, f.Validate()
}

// Validate checks that there are 2..maxRegions regions with valid, distinct
// names.
func (f Fabric) Validate() error {
	if len(f.Regions) < 2 || len(f.Regions) > maxRegions {
		return fmt.Errorf("%w: %d regions, want 2..%d", ErrInvalidFabric, len(f.Regions), maxRegions)
	}
	seen := make(map[string]bool, len(f.Regions))
	for _, r := range f.Regions {
		if err := naming.Validate("region", r.Name); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidFabric, err)
		}
		if seen[r.Name] {
			return fmt.Errorf("%w: region %s listed twice", ErrInvalidFabric, r.Name)
		}
		seen[r.Name] = true
	}
	return nil
}
