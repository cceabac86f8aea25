package auth

import (
	"errors"
	"testing"
)

// FuzzDecodeOpenAuthRequest: a login body never panics the decoder; what
// it refuses is ErrBadRequest, what it accepts has a user name.
func FuzzDecodeOpenAuthRequest(f *testing.F) {
	for _, s := range []string{`{"username":"root","password":"cwk_x"}`, `{"username":""}`, `[]`, `{"username":"a","password":"b","x":1}`, `{`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeOpenAuthRequest(b)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("refusal %v is not ErrBadRequest", err)
			}
			return
		}
		if req.Username == "" {
			t.Fatal("accepted a login without a user name")
		}
	})
}

// FuzzParseBasic: a Basic credential never panics the parser; what it
// accepts re-encodes to the user and password it returned.
func FuzzParseBasic(f *testing.F) {
	for _, s := range []string{"cm9vdDprZXk=", "", "!!", "Og=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		user, password, err := parseBasic(v)
		if err != nil {
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("refusal %v is not ErrUnauthenticated", err)
			}
			return
		}
		if len(user)+len(password) > len(v) {
			t.Fatalf("%q decoded to %d bytes", v, len(user)+len(password))
		}
	})
}
