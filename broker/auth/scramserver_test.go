package auth

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/xdg-go/scram"
)

func scramFixture(t testing.TB) (lookup func(string) (*SCRAMCredential, error), user, pass string) {
	t.Helper()
	user, pass = "0123456789abcdef", "cwk_secret"
	cred, err := DeriveSCRAM(rand.Reader, user, pass)
	if err != nil {
		t.Fatal(err)
	}
	return func(u string) (*SCRAMCredential, error) {
		if u != user {
			return nil, ErrUnauthenticated
		}
		return cred, nil
	}, user, pass
}

// exchange runs a SCRAM exchange with the xdg-go/scram client; rewrite
// may change the client-final message before the server sees it.
func exchange(t *testing.T, lookup func(string) (*SCRAMCredential, error), user, pass string, rewrite func(first, final string) string) (*SCRAMServer, error) {
	t.Helper()
	cl, err := scram.SHA256.NewClient(user, pass, "")
	if err != nil {
		t.Fatal(err)
	}
	conv := cl.NewConversation()
	first, err := conv.Step("")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewSCRAMServer(rand.Reader, lookup)
	s1, err := srv.Step(first)
	if err != nil {
		return srv, err
	}
	final, err := conv.Step(s1)
	if err != nil {
		t.Fatal(err)
	}
	if rewrite != nil {
		final = rewrite(first, final)
	}
	s2, err := srv.Step(final)
	if err != nil {
		return srv, err
	}
	if _, err := conv.Step(s2); err != nil {
		t.Fatalf("the client refused the server's signature: %v", err)
	}
	return srv, nil
}

func TestSCRAMServerWithXDGClient(t *testing.T) {
	lookup, user, pass := scramFixture(t)
	srv, err := exchange(t, lookup, user, pass, nil)
	if err != nil || !srv.Done() || !srv.Valid() || srv.Username() != user {
		t.Fatalf("exchange: %v done %v valid %v user %q", err, srv.Done(), srv.Valid(), srv.Username())
	}
	if _, err := srv.Step("again"); !errors.Is(err, ErrUnauthenticated) {
		t.Fatal("a finished exchange took another step")
	}
}

func TestSCRAMServerRefuses(t *testing.T) {
	lookup, user, pass := scramFixture(t)
	for name, tc := range map[string]struct {
		user, pass string
		rewrite    func(first, final string) string
	}{
		"wrong password": {user, pass + "x", nil},
		"unknown user":   {"fedcba9876543210", pass, nil},
		"other nonce": {user, pass, func(_, final string) string {
			i := strings.LastIndex(final, ",p=")
			other := "X"
			if final[i-1] == 'X' { // a random nonce may end with X already (1 in 64)
				other = "Y"
			}
			return final[:i-1] + other + final[i:] // the combined nonce's last character changed
		}},
		"tampered proof": {user, pass, func(_, final string) string {
			i := strings.LastIndex(final, ",p=")
			return final[:i] + ",p=" + strings.Repeat("A", 43) + "="
		}},
		"channel binding": {user, pass, func(_, final string) string { return strings.Replace(final, "c=biws", "c=eSws", 1) }},
		"no proof":        {user, pass, func(_, final string) string { return final[:strings.LastIndex(final, ",p=")] }},
	} {
		srv, err := exchange(t, lookup, tc.user, tc.pass, tc.rewrite)
		if !errors.Is(err, ErrUnauthenticated) || srv.Valid() {
			t.Errorf("%s: %v valid %v", name, err, srv.Valid())
		}
	}
}

// TestSCRAMServerLibrdkafkaNonce: librdkafka's client-final nonce is its
// client nonce followed by the whole combined nonce; Kafka accepts a nonce
// that ends with the combined one, and so does this server (the proof is
// over the message as sent).
func TestSCRAMServerLibrdkafkaNonce(t *testing.T) {
	lookup, user, pass := scramFixture(t)
	cred, _ := lookup(user)
	srv := NewSCRAMServer(rand.Reader, lookup)
	cnonce := "fyko+d2lbbFgONRv9qkxdawL"
	first := "n,,n=" + user + ",r=" + cnonce
	s1, err := srv.Step(first)
	if err != nil {
		t.Fatal(err)
	}
	combined := strings.TrimPrefix(strings.Split(s1, ",")[0], "r=")
	withoutProof := "c=biws,r=" + cnonce + combined
	authMessage := []byte(first[3:] + "," + s1 + "," + withoutProof)
	// The client's proof, computed from the password as a client does.
	clientKey := clientKeyOf(t, pass, cred)
	sig := hmacSHA256(cred.StoredKey, authMessage)
	proof := make([]byte, len(sig))
	for i := range proof {
		proof[i] = clientKey[i] ^ sig[i]
	}
	if _, err := srv.Step(withoutProof + ",p=" + b64(proof)); err != nil || !srv.Valid() {
		t.Fatalf("librdkafka-style final message refused: %v", err)
	}
}

func FuzzSCRAMServer(f *testing.F) {
	f.Add("n,,n=0123456789abcdef,r=abc", "c=biws,r=abc,p=AAAA")
	f.Add("p=tls-unique,,n=u,r=x", "")
	f.Add("n,a=x,n=a=3Db,r=n", "c=biws,r=n,p=")
	lookup, _, _ := scramFixture(f)
	f.Fuzz(func(t *testing.T, first, final string) {
		srv := NewSCRAMServer(rand.Reader, lookup)
		if _, err := srv.Step(first); err != nil {
			if srv.Valid() || !srv.Done() {
				t.Fatal("a failed first step left the exchange open")
			}
			return
		}
		if _, err := srv.Step(final); err == nil || srv.Valid() {
			t.Fatalf("a guessed final message was accepted: %q %q", first, final)
		}
	})
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// clientKeyOf derives the SCRAM ClientKey of pass for cred's salt.
func clientKeyOf(t *testing.T, pass string, cred *SCRAMCredential) []byte {
	t.Helper()
	salted, err := pbkdf2.Key(sha256.New, pass, cred.Salt, cred.Iters, sha256.Size)
	if err != nil {
		t.Fatal(err)
	}
	return hmacSHA256(salted, []byte("Client Key"))
}
