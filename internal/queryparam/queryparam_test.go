package queryparam

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	s := New(Bool("returnNew"), Int("limit", 0, 100), OneOf("mode", "replace", "update"),
		Text("messageId"), Only("isRestore", "false", "restoring revisions is not supported"))
	cases := []struct {
		query string
		param string // "" : accepted
		msg   string // part of the message when refused
	}{
		{"", "", ""},
		{"returnNew=true", "", ""},
		{"returnNew=1&limit=0&mode=update&messageId=anything%20goes", "", ""},
		{"returnNew=", "", ""}, // empty: absent
		{"limit=100", "", ""},
		{"isRestore=false", "", ""},
		{"token=abc", "", ""},
		{"token=abc&returnNew=false", "", ""},
		{"x=1", "x", `unknown query parameter "x" (this route takes isRestore, limit, messageId, mode, returnNew)`},
		{"returnnew=true", "returnnew", "unknown query parameter"},
		{"returnNew=true&zzz=1", "zzz", "unknown"},
		{"=1", "", `unknown query parameter ""`},
		{"returnNew=maybe", "returnNew", `query parameter returnNew="maybe": want true or false`},
		{"limit=101", "limit", "want an integer from 0 to 100"},
		{"limit=-1", "limit", "want an integer"},
		{"limit=1.5", "limit", "want an integer"},
		{"mode=Replace", "mode", "want one of replace, update"},
		{"isRestore=true", "isRestore", "(restoring revisions is not supported)"},
		{"returnNew=true&returnNew=false", "returnNew", "given 2 times"},
		{"token=a&token=b", "token", "given 2 times"},
		{"returnNew=true;x=1", "", "malformed query string"},
		{"limit=%zz", "", "malformed query string"},
	}
	for _, c := range cases {
		err := s.Check(c.query)
		if c.msg == "" {
			if err != nil {
				t.Errorf("%q: refused: %v", c.query, err)
			}
			continue
		}
		var qe *Error
		if !errors.As(err, &qe) || !errors.Is(err, ErrBadParam) {
			t.Errorf("%q: err = %v, want an *Error wrapping ErrBadParam", c.query, err)
			continue
		}
		if qe.Param != c.param || !strings.Contains(qe.Error(), c.msg) {
			t.Errorf("%q: refused %q: %q, want %q: %q", c.query, qe.Param, qe.Error(), c.param, c.msg)
		}
	}
}

func TestEmptySetTakesOnlyToken(t *testing.T) {
	var s Set
	if err := s.Check("token=x"); err != nil {
		t.Fatal(err)
	}
	err := s.Check("force=true")
	if err == nil || err.Error() != `unknown query parameter "force" (this route takes none)` {
		t.Fatalf("err = %v", err)
	}
}

// TestCheckOrderIndependent: the refusal names the same parameter whatever
// order the client sent them in.
func TestCheckOrderIndependent(t *testing.T) {
	s := New(Bool("a"))
	e1, e2 := s.Check("z=1&b=2"), s.Check("b=2&z=1")
	if e1 == nil || e1.Error() != e2.Error() {
		t.Fatalf("%v vs %v", e1, e2)
	}
}

func TestDeclarationMistakesPanic(t *testing.T) {
	for _, ps := range [][]Param{{Bool("a"), Bool("a")}, {Bool(Token)}, {Bool("")}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%v: no panic", ps)
				}
			}()
			New(ps...)
		}()
	}
	base := New(Bool("a"))
	ext := base.With(Bool("b"))
	if got := strings.Join(base.Names(), ","); got != "a" {
		t.Errorf("With changed its receiver: %s", got)
	}
	if got := strings.Join(ext.Names(), ","); got != "a,b" {
		t.Errorf("With: %s", got)
	}
}

func TestInvalid(t *testing.T) {
	for _, p := range []Param{Bool("b"), Int("i", 0, 10), OneOf("o", "x"), Only("n", "false", "")} {
		v := p.Invalid()
		if v == "" || New(p).Check(url.Values{p.Name(): {v}}.Encode()) == nil {
			t.Errorf("%s: Invalid() = %q is accepted", p.Name(), v)
		}
	}
	if v := Text("t").Invalid(); v != "" {
		t.Errorf("Text has an invalid value %q", v)
	}
}

// FuzzCheck: Check never panics, and what it accepts parses, has each name
// once, and names only declared parameters with values they take.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"", "a=1", "a=1&a=2", "b=x;y", "%zz", "=", "&&", "token=t&n=5", "n=99999999999999999999"} {
		f.Add(s)
	}
	s := New(Bool("a"), Int("n", 0, 10), OneOf("m", "x", "y"), Text("t"))
	f.Fuzz(func(t *testing.T, raw string) {
		if err := s.Check(raw); err != nil {
			if !errors.Is(err, ErrBadParam) {
				t.Fatalf("%q: %v does not wrap ErrBadParam", raw, err)
			}
			return
		}
		q, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatalf("%q accepted but does not parse: %v", raw, err)
		}
		for name, vs := range q {
			if len(vs) != 1 {
				t.Fatalf("%q: %s given %d times, accepted", raw, name, len(vs))
			}
			if name == Token {
				continue
			}
			i := s.find(name)
			if i < 0 {
				t.Fatalf("%q: undeclared %q accepted", raw, name)
			}
			if vs[0] != "" && !s.params[i].check(vs[0]) {
				t.Fatalf("%q: %s=%q accepted", raw, name, vs[0])
			}
		}
	})
}
