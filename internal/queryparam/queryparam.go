// Package queryparam declares the query parameters an HTTP route accepts
// and checks a request's query string against them before the route's
// handler runs. A parameter the route does not declare, one given twice,
// one whose value the route cannot read, and a query string that does not
// parse are refused with an error naming the parameter: a mistyped or
// unsupported parameter can never turn into a different write, nor into a
// read that means something else than the client asked. Every HTTP front
// end of the node (broker/httpapi, collections/httpapi, spot) declares its
// routes with it.
//
// Pure: no I/O; the front ends render the error in their own envelope.
package queryparam

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// ErrBadParam is what every refusal wraps (HTTP 400).
var ErrBadParam = errors.New("queryparam: bad query parameter")

// Error is a refused query string: the parameter and what is wrong with
// it. Its message is what the client sees.
type Error struct {
	Param string // the parameter's name ("" for a malformed query string)
	msg   string
}

func (e *Error) Error() string { return e.msg }

// Unwrap makes errors.Is(err, ErrBadParam) hold.
func (e *Error) Unwrap() error { return ErrBadParam }

// Token is accepted on every route: the credential of clients that cannot
// set a header (the auth gate consumes it).
const Token = "token"

// Param is one accepted parameter and the values it takes. An empty value
// ("?name=") means the same as an absent parameter.
type Param struct {
	name  string
	want  string // the accepted values, for the error message
	check func(v string) bool
	why   string // for Only: why other values are refused
}

// Name is the parameter's name.
func (p Param) Name() string { return p.name }

// Invalid returns a value the parameter refuses ("" when it takes any),
// for tests that walk declared parameters.
func (p Param) Invalid() string {
	for _, v := range []string{"maybe", "-1", "x y", "not-a-value"} {
		if !p.check(v) {
			return v
		}
	}
	return ""
}

// Bool takes true or false (and 1, 0, t, f, as strconv.ParseBool).
func Bool(name string) Param {
	return Param{name: name, want: "true or false", check: func(v string) bool {
		_, err := strconv.ParseBool(v)
		return err == nil
	}}
}

// Int takes a decimal integer in [min, max].
func Int(name string, min, max int64) Param {
	return Param{name: name, want: fmt.Sprintf("an integer from %d to %d", min, max), check: func(v string) bool {
		n, err := strconv.ParseInt(v, 10, 64)
		return err == nil && n >= min && n <= max
	}}
}

// OneOf takes one of values (case-sensitive).
func OneOf(name string, values ...string) Param {
	vs := slices.Clone(values)
	return Param{name: name, want: "one of " + strings.Join(vs, ", "), check: func(v string) bool {
		return slices.Contains(vs, v)
	}}
}

// Text takes any value; the handler reads and checks it (a message id, a
// collection name).
func Text(name string) Param {
	return Param{name: name, check: func(string) bool { return true }}
}

// Only takes exactly value: for a parameter clients send routinely whose
// other values the node does not implement (why says so).
func Only(name, value, why string) Param {
	return Param{name: name, want: value, why: why, check: func(v string) bool { return v == value }}
}

// Set is what one route accepts. The zero Set accepts only Token.
type Set struct {
	params []Param // sorted by name
}

// New returns the set of ps (plus Token). A name given twice panics: it
// is a mistake in a route table, found when the handler is built.
func New(ps ...Param) Set {
	var s Set
	return s.With(ps...)
}

// With returns s plus ps.
func (s Set) With(ps ...Param) Set {
	out := Set{params: slices.Clone(s.params)}
	for _, p := range ps {
		if p.name == "" || p.name == Token || out.find(p.name) >= 0 {
			panic(fmt.Sprintf("queryparam: parameter %q declared twice or reserved", p.name))
		}
		out.params = append(out.params, p)
	}
	slices.SortFunc(out.params, func(a, b Param) int { return strings.Compare(a.name, b.name) })
	return out
}

func (s Set) find(name string) int {
	for i, p := range s.params {
		if p.name == name {
			return i
		}
	}
	return -1
}

// Has reports whether s declares name.
func (s Set) Has(name string) bool { return s.find(name) >= 0 }

// Params lists the declared parameters in name order (Token not included).
func (s Set) Params() []Param { return slices.Clone(s.params) }

// Names lists the declared parameters' names in order.
func (s Set) Names() []string {
	out := make([]string, len(s.params))
	for i, p := range s.params {
		out[i] = p.name
	}
	return out
}

// Check reads a raw query string and refuses it (an *Error) when it does
// not parse, names a parameter s does not declare, gives one twice, or
// gives one a value it does not take. Every parameter is checked, in
// name order, so the answer does not depend on the order they were sent.
func (s Set) Check(rawQuery string) error {
	if rawQuery == "" {
		return nil
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return &Error{msg: fmt.Sprintf("malformed query string: %v", err)}
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		vs := q[name]
		if len(vs) > 1 {
			return &Error{Param: name, msg: fmt.Sprintf("query parameter %q given %d times", name, len(vs))}
		}
		if name == Token {
			continue
		}
		i := s.find(name)
		if i < 0 {
			return &Error{Param: name, msg: s.unknown(name)}
		}
		p, v := s.params[i], vs[0]
		if v == "" || p.check(v) {
			continue
		}
		msg := fmt.Sprintf("query parameter %s=%q: want %s", name, v, p.want)
		if p.why != "" {
			msg += " (" + p.why + ")"
		}
		return &Error{Param: name, msg: msg}
	}
	return nil
}

func (s Set) unknown(name string) string {
	msg := fmt.Sprintf("unknown query parameter %q", name)
	if len(s.params) == 0 {
		return msg + " (this route takes none)"
	}
	return msg + " (this route takes " + strings.Join(s.Names(), ", ") + ")"
}
