package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func claimsAt(now time.Time, ttl time.Duration) Claims {
	return Claims{Tenant: "A", Permissions: []string{"read:fabric/f"}, RegisteredClaims: jwt.RegisteredClaims{
		Subject: "app", IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}}
}

func TestTokenRoundTrip(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tok, err := IssueToken(testSecret, claimsAt(now, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	p, c, err := ParseToken(testSecret, tok, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if p.Tenant != "A" || p.Superuser || len(p.Grants) != 1 || c.Subject != "app" || p.ID != "token:A/app" {
		t.Fatalf("principal %+v, claims %+v", p, c)
	}
}

// sign signs arbitrary claims with any method, for hostile tokens.
func sign(t *testing.T, m jwt.SigningMethod, key any, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTokenRefused(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	good, err := IssueToken(testSecret, claimsAt(now, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	// A payload that claims another tenant, under the original signature.
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"tenant":"B","perms":["admin:*"],"exp":9999999999}`))
	flip := []byte(parts[2])
	flip[3] ^= 1
	noExp := claimsAt(now, time.Hour)
	noExp.ExpiresAt = nil
	future := claimsAt(now, time.Hour)
	future.NotBefore = jwt.NewNumericDate(now.Add(time.Minute))
	badTenant := claimsAt(now, time.Hour)
	badTenant.Tenant = "../B"
	badPerm := claimsAt(now, time.Hour)
	badPerm.Permissions = []string{"everything"}
	badKey := claimsAt(now, time.Hour)
	badKey.Key = "not-a-key-id"
	issuedLater := claimsAt(now.Add(time.Hour), time.Hour)
	for name, tok := range map[string]string{
		"empty":              "",
		"garbage":            "not a token",
		"expired":            good,
		"tampered payload":   parts[0] + "." + forged + "." + parts[2],
		"tampered signature": parts[0] + "." + parts[1] + "." + string(flip),
		"no signature":       parts[0] + "." + parts[1] + ".",
		"alg none":           sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claimsAt(now, time.Hour)),
		"HS512":              sign(t, jwt.SigningMethodHS512, testSecret, claimsAt(now, time.Hour)),
		"other secret":       sign(t, jwt.SigningMethodHS256, []byte("another secret of thirty-two byte"), claimsAt(now, time.Hour)),
		"no exp":             sign(t, jwt.SigningMethodHS256, testSecret, noExp),
		"not yet valid":      sign(t, jwt.SigningMethodHS256, testSecret, future),
		"issued in future":   sign(t, jwt.SigningMethodHS256, testSecret, issuedLater),
		"bad tenant":         sign(t, jwt.SigningMethodHS256, testSecret, badTenant),
		"bad permission":     sign(t, jwt.SigningMethodHS256, testSecret, badPerm),
		"bad key claim":      sign(t, jwt.SigningMethodHS256, testSecret, badKey),
		"huge":               strings.Repeat("a", maxTokenBytes+1),
	} {
		at := now
		if name == "expired" {
			at = now.Add(time.Hour)
		}
		if p, _, err := ParseToken(testSecret, tok, at); !errors.Is(err, ErrUnauthenticated) || p != nil {
			t.Errorf("%s: ParseToken = %+v, %v; want ErrUnauthenticated", name, p, err)
		}
	}
}

func TestIssueTokenNeedsSecretAndExpiry(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	if _, err := IssueToken([]byte("short"), claimsAt(now, time.Hour)); !errors.Is(err, ErrJWTDisabled) {
		t.Fatalf("short secret: %v", err)
	}
	c := claimsAt(now, time.Hour)
	c.ExpiresAt = nil
	if _, err := IssueToken(testSecret, c); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("no expiry: %v", err)
	}
	if _, _, err := ParseToken([]byte("short"), "x.y.z", now); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("short secret parse: %v", err)
	}
}
