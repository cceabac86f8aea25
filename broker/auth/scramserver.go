package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// SCRAM server errors (RFC 5802 server-error values), wrapping
// ErrUnauthenticated.
var (
	errSCRAMFormat  = fmt.Errorf("%w: scram: malformed message", ErrUnauthenticated)
	errSCRAMBinding = fmt.Errorf("%w: scram: channel binding is not supported", ErrUnauthenticated)
	errSCRAMNonce   = fmt.Errorf("%w: scram: nonce does not match", ErrUnauthenticated)
	errSCRAMProof   = fmt.Errorf("%w: scram: invalid proof", ErrUnauthenticated)
	errSCRAMState   = fmt.Errorf("%w: scram: the exchange is over", ErrUnauthenticated)
)

// maxSCRAMMessageBytes bounds one SCRAM message.
const maxSCRAMMessageBytes = 4 << 10

// SCRAMServer is the server side of one SCRAM-SHA-256 exchange (RFC 5802,
// RFC 7677) as Kafka brokers run it. It differs from the letter of the RFC
// in one way Kafka does: the client-final nonce must end with the combined
// nonce rather than equal it, because librdkafka sends its client nonce
// twice (client nonce + combined nonce) and Kafka accepts that. The proof
// is computed over the messages exactly as sent, so the check is as strong.
// It is pure: randomness comes from rnd and credentials from lookup.
type SCRAMServer struct {
	rnd    io.Reader
	lookup func(username string) (*SCRAMCredential, error)

	step            int // 0: expects client-first, 1: client-final, 2: done
	username        string
	gs2Header       string
	clientFirstBare string
	serverFirst     string
	nonce           string // client nonce + server nonce
	cred            *SCRAMCredential
	valid           bool
}

// NewSCRAMServer starts an exchange.
func NewSCRAMServer(rnd io.Reader, lookup func(username string) (*SCRAMCredential, error)) *SCRAMServer {
	return &SCRAMServer{rnd: rnd, lookup: lookup}
}

// Done reports whether the exchange is over; Valid whether it proved the
// credential; Username is the client's (decoded) username.
func (s *SCRAMServer) Done() bool       { return s.step == 2 }
func (s *SCRAMServer) Valid() bool      { return s.valid }
func (s *SCRAMServer) Username() string { return s.username }

// Step takes the client's message and returns the server's answer: the
// server-first message, then the server-final one. On failure the exchange
// is over and the error wraps ErrUnauthenticated; the answer is then an
// RFC 5802 "e=" server error.
func (s *SCRAMServer) Step(msg string) (string, error) {
	if len(msg) > maxSCRAMMessageBytes {
		s.step = 2
		return "e=other-error", errSCRAMFormat
	}
	switch s.step {
	case 0:
		out, err := s.first(msg)
		s.step = 1
		if err != nil {
			s.step = 2
		}
		return out, err
	case 1:
		s.step = 2
		return s.final(msg)
	}
	return "e=other-error", errSCRAMState
}

func (s *SCRAMServer) first(msg string) (string, error) {
	// gs2-header: cbind-flag "," [ authzid ] ","
	flag, rest, ok := strings.Cut(msg, ",")
	if !ok {
		return "e=other-error", errSCRAMFormat
	}
	switch {
	case flag == "n" || flag == "y":
	case strings.HasPrefix(flag, "p="):
		return "e=channel-bindings-dont-match", errSCRAMBinding
	default:
		return "e=other-error", errSCRAMFormat
	}
	authz, bare, ok := strings.Cut(rest, ",")
	if !ok || (authz != "" && !strings.HasPrefix(authz, "a=")) {
		return "e=other-error", errSCRAMFormat
	}
	s.gs2Header = msg[:len(flag)+1+len(authz)+1]
	s.clientFirstBare = bare
	attrs := strings.Split(bare, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "n=") || !strings.HasPrefix(attrs[1], "r=") {
		return "e=other-error", errSCRAMFormat
	}
	for _, a := range attrs[2:] {
		if strings.HasPrefix(a, "m=") {
			return "e=extensions-not-supported", errSCRAMFormat
		}
	}
	user, ok := decodeSASLName(attrs[0][2:])
	cnonce := attrs[1][2:]
	if !ok || user == "" || !printableNonce(cnonce) {
		return "e=invalid-username-encoding", errSCRAMFormat
	}
	s.username = user
	cred, err := s.lookup(user)
	if err != nil || cred == nil {
		return "e=unknown-user", fmt.Errorf("%w: scram: unknown user", ErrUnauthenticated)
	}
	s.cred = cred
	var raw [24]byte
	if _, err := io.ReadFull(s.rnd, raw[:]); err != nil {
		return "e=other-error", fmt.Errorf("auth: scram nonce: %w", err)
	}
	s.nonce = cnonce + base64.RawURLEncoding.EncodeToString(raw[:])
	s.serverFirst = "r=" + s.nonce + ",s=" + base64.StdEncoding.EncodeToString(cred.Salt) + ",i=" + strconv.Itoa(cred.Iters)
	return s.serverFirst, nil
}

func (s *SCRAMServer) final(msg string) (string, error) {
	i := strings.LastIndex(msg, ",p=")
	if i < 0 {
		return "e=other-error", errSCRAMFormat
	}
	withoutProof, proofB64 := msg[:i], msg[i+3:]
	attrs := strings.Split(withoutProof, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "c=") || !strings.HasPrefix(attrs[1], "r=") {
		return "e=other-error", errSCRAMFormat
	}
	cbind, err := base64.StdEncoding.DecodeString(attrs[0][2:])
	if err != nil || string(cbind) != s.gs2Header {
		return "e=channel-bindings-dont-match", errSCRAMBinding
	}
	if nonce := attrs[1][2:]; !strings.HasSuffix(nonce, s.nonce) {
		return "e=other-error", errSCRAMNonce
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != sha256.Size {
		return "e=invalid-proof", errSCRAMProof
	}
	authMessage := []byte(s.clientFirstBare + "," + s.serverFirst + "," + withoutProof)
	clientSig := hmacSHA256(s.cred.StoredKey, authMessage)
	clientKey := make([]byte, sha256.Size)
	for j := range clientKey {
		clientKey[j] = proof[j] ^ clientSig[j]
	}
	stored := sha256.Sum256(clientKey)
	if subtle.ConstantTimeCompare(stored[:], s.cred.StoredKey) != 1 {
		return "e=invalid-proof", errSCRAMProof
	}
	s.valid = true
	return "v=" + base64.StdEncoding.EncodeToString(hmacSHA256(s.cred.ServerKey, authMessage)), nil
}

func hmacSHA256(key, msg []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil)
}

// decodeSASLName reverses RFC 5802's "=2C" and "=3D" escapes; ok is
// false for any other '='.
func decodeSASLName(s string) (string, bool) {
	if !strings.Contains(s, "=") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", false
		}
		i += 2
	}
	return b.String(), true
}

// printableNonce reports whether n is a valid RFC 5802 nonce: printable
// ASCII without ','.
func printableNonce(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; c < 0x21 || c > 0x7e || c == ',' {
			return false
		}
	}
	return true
}
