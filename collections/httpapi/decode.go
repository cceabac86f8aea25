package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/causeway/causeway/collections/query"
	"github.com/causeway/causeway/collections/service"
)

// maxBodyBytes bounds a request body.
const maxBodyBytes = 32 << 20

// readBody reads a bounded body and decodes it (see decodeJSON). An empty
// body decodes to nil.
func readBody(w http.ResponseWriter, r *http.Request) (any, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("%w: body larger than %d bytes", service.ErrTooLarge, maxBodyBytes)
		}
		return nil, fmt.Errorf("%w: read body: %w", errCorruptJSON, err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	return decodeJSON(b)
}

// decodeJSON decodes exactly one JSON value, numbers as json.Number.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %w", errCorruptJSON, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON value", errCorruptJSON)
	}
	return v, nil
}

// docInput is one document of a request body: its user attributes and the
// system attributes it named.
type docInput struct {
	key    string
	rev    string
	attrs  map[string]any
	hasKey bool
}

// documentInput splits a document object into _key, _rev and the user
// attributes (_id is dropped: it is derived).
func documentInput(v any) (docInput, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return docInput{}, fmt.Errorf("%w: a document must be a JSON object", service.ErrBadRequest)
	}
	in := docInput{attrs: make(map[string]any, len(obj))}
	for name, val := range obj {
		switch name {
		case "_key":
			s, ok := val.(string)
			if !ok {
				return docInput{}, fmt.Errorf("%w: _key must be a string", service.ErrInvalidKey)
			}
			in.key, in.hasKey = s, true
		case "_rev":
			s, ok := val.(string)
			if !ok {
				return docInput{}, fmt.Errorf("%w: _rev must be a string", service.ErrBadRequest)
			}
			in.rev = s
		case "_id":
		default:
			in.attrs[name] = val
		}
	}
	return in, nil
}

// documentsInput reads a body holding one document or, when arrays are
// allowed, an array of them. It reports whether the body was an array.
func documentsInput(v any) ([]docInput, bool, error) {
	arr, isArray := v.([]any)
	if !isArray {
		in, err := documentInput(v)
		return []docInput{in}, false, err
	}
	if len(arr) > service.MaxWritesPerRequest {
		return nil, true, fmt.Errorf("%w: %d documents in one request, the limit is %d", service.ErrTooLarge, len(arr), service.MaxWritesPerRequest)
	}
	out := make([]docInput, len(arr))
	for i, e := range arr {
		in, err := documentInput(e)
		if err != nil {
			return nil, true, fmt.Errorf("document %d: %w", i, err)
		}
		out[i] = in
	}
	return out, true, nil
}

// keysInput reads a body of document keys: strings, or objects with _key
// (and optionally _rev).
func keysInput(v any) ([]docInput, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: want an array of keys or of objects with _key", service.ErrBadRequest)
	}
	if len(arr) > service.MaxWritesPerRequest {
		return nil, fmt.Errorf("%w: %d keys in one request, the limit is %d", service.ErrTooLarge, len(arr), service.MaxWritesPerRequest)
	}
	out := make([]docInput, len(arr))
	for i, e := range arr {
		if s, ok := e.(string); ok {
			out[i] = docInput{key: s, hasKey: true}
			continue
		}
		in, err := documentInput(e)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		if !in.hasKey {
			return nil, fmt.Errorf("%w: key %d has no _key", service.ErrInvalidKey, i)
		}
		out[i] = in
	}
	return out, nil
}

// kvInput is one key/value entry to set.
type kvInput struct {
	key       string
	value     any
	expiresAt uint64 // Unix ms, 0: the collection's default
	noExpiry  bool   // expireAt -1 or 0: never, whatever the default
}

// kvEntriesInput reads {"_key","value","expireAt"|"ttl"} objects (one or
// an array, which it reports). expireAt is absolute Unix seconds (-1 or 0:
// none), ttl seconds from now.
func kvEntriesInput(v any, now time.Time) ([]kvInput, bool, error) {
	arr, isArray := v.([]any)
	if !isArray {
		arr = []any{v}
	}
	out, err := kvEntries(arr, now)
	return out, isArray, err
}

func kvEntries(arr []any, now time.Time) ([]kvInput, error) {
	if len(arr) > service.MaxWritesPerRequest {
		return nil, fmt.Errorf("%w: %d entries in one request, the limit is %d", service.ErrTooLarge, len(arr), service.MaxWritesPerRequest)
	}
	out := make([]kvInput, len(arr))
	for i, e := range arr {
		obj, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: entry %d must be an object {\"_key\", \"value\"}", service.ErrBadRequest, i)
		}
		key, ok := obj["_key"].(string)
		if !ok {
			return nil, fmt.Errorf("%w: entry %d needs a string _key", service.ErrInvalidKey, i)
		}
		value, ok := obj["value"]
		if !ok {
			return nil, fmt.Errorf("%w: entry %d has no value", service.ErrBadRequest, i)
		}
		in := kvInput{key: key, value: value}
		for name, val := range obj {
			switch name {
			case "_key", "value":
			case "expireAt":
				sec, err := integer(val, "expireAt")
				if err != nil {
					return nil, fmt.Errorf("entry %d: %w", i, err)
				}
				switch {
				case sec == -1 || sec == 0:
					in.noExpiry = true
				case sec < -1 || sec > math.MaxInt64/1000:
					return nil, fmt.Errorf("%w: entry %d: expireAt must be Unix seconds, or -1 for none", service.ErrBadRequest, i)
				default:
					in.expiresAt = uint64(sec) * 1000
				}
			case "ttl":
				sec, err := integer(val, "ttl")
				if err != nil {
					return nil, fmt.Errorf("entry %d: %w", i, err)
				}
				if sec <= 0 || sec > 100*365*24*3600 {
					return nil, fmt.Errorf("%w: entry %d: ttl must be 1 second to 100 years", service.ErrBadRequest, i)
				}
				in.expiresAt = uint64(now.UnixMilli()) + uint64(sec)*1000
			default:
				return nil, fmt.Errorf("%w: entry %d: unknown attribute %q (want _key, value, expireAt, ttl)", service.ErrBadRequest, i, name)
			}
		}
		out[i] = in
	}
	return out, nil
}

// integer reads a JSON integer.
func integer(v any, what string) (int64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%w: %s must be an integer", service.ErrBadRequest, what)
	}
	i, err := n.Int64()
	if err != nil {
		return 0, fmt.Errorf("%w: %s must be an integer", service.ErrBadRequest, what)
	}
	return i, nil
}

// cursorInput is the body of POST /_api/cursor (and of explain).
type cursorInput struct {
	query     string
	params    query.Params
	batchSize int
	ttl       time.Duration
}

// cursorRequestInput reads {"query", "bindVars", "batchSize", "ttl"}.
// bindVars is an object (named @parameters) or an array (positional ?).
func cursorRequestInput(v any) (cursorInput, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return cursorInput{}, fmt.Errorf("%w: want an object {\"query\": ...}", service.ErrBadRequest)
	}
	var in cursorInput
	q, ok := obj["query"].(string)
	if !ok || q == "" {
		return cursorInput{}, fmt.Errorf("%w: query must be a non-empty string", service.ErrBadRequest)
	}
	in.query = q
	var err error
	if in.params, err = bindVarsInput(obj["bindVars"]); err != nil {
		return cursorInput{}, err
	}
	for name, val := range obj {
		switch name {
		case "query", "bindVars", "count", "options", "cache", "memoryLimit":
		case "batchSize":
			n, err := integer(val, "batchSize")
			if err != nil {
				return cursorInput{}, err
			}
			if n < 1 || n > math.MaxInt32 {
				return cursorInput{}, fmt.Errorf("%w: batchSize must be positive", service.ErrBadRequest)
			}
			in.batchSize = int(n)
		case "ttl":
			n, err := integer(val, "ttl")
			if err != nil {
				return cursorInput{}, err
			}
			if n < 1 || n > 3600 {
				return cursorInput{}, fmt.Errorf("%w: ttl must be 1 to 3600 seconds", service.ErrBadRequest)
			}
			in.ttl = time.Duration(n) * time.Second
		default:
			return cursorInput{}, fmt.Errorf("%w: unknown attribute %q", service.ErrBadRequest, name)
		}
	}
	return in, nil
}

// bindVarsInput reads bind parameters: an object (named) or an array
// (positional); absent or null means none.
func bindVarsInput(v any) (query.Params, error) {
	switch b := v.(type) {
	case nil:
		return query.Params{}, nil
	case map[string]any:
		return query.Params{Named: b}, nil
	case []any:
		return query.Params{Positional: b}, nil
	}
	return query.Params{}, fmt.Errorf("%w: bindVars must be an object or an array", service.ErrBadRequest)
}

// boolParam reads a query-string flag ("true"/"false"/"1"/"0"; absent: def).
func boolParam(r *http.Request, name string, def bool) (bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("%w: query parameter %s=%q is not a boolean", service.ErrBadRequest, name, s)
	}
	return b, nil
}

// intParam reads a non-negative integer query-string parameter.
func intParam(r *http.Request, name string, def int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: query parameter %s=%q is not a non-negative integer", service.ErrBadRequest, name, s)
	}
	return n, nil
}
