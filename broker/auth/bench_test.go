package auth

import (
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/zap"
)

// BenchmarkAdmit measures the gate on one request: classification,
// authentication (an API key, a token), rate and authorization.
func BenchmarkAdmit(b *testing.B) {
	on := true
	svc, err := New(Config{Enabled: &on, RequestsPerSecond: -1}, newMemKV(), Options{Logger: zap.NewNop()})
	if err != nil {
		b.Fatal(err)
	}
	key := svc.BootstrapKey()
	now := time.Now()
	tok, err := IssueToken(svc.secret, Claims{Tenant: "_mm", Superuser: true, RegisteredClaims: claimsAt(now, time.Hour).RegisteredClaims})
	if err != nil {
		b.Fatal(err)
	}

	for name, cred := range map[string]string{"key": key, "token": tok} {
		b.Run(name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/_fabric/_system/_api/document/users/k1", nil)
			r.Header.Set("Authorization", "Bearer "+cred)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				if _, _, _, ok := svc.Admit(w, r, "_mm", false); !ok {
					b.Fatalf("refused: %d %s", w.Code, w.Body)
				}
			}
		})
	}
	b.Run("websocket-path", func(b *testing.B) {
		r := httptest.NewRequest("GET", "/ws/v2/producer/persistent/_mm/_system/orders", nil)
		r.Header.Set("Authorization", "Bearer "+key)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := svc.router.Classify(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
