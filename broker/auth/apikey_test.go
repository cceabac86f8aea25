package auth

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/causeway/causeway/internal/testkey"
)

func TestNewKeyShape(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		id, plain, err := NewKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(plain) != keyLen || !strings.HasPrefix(plain, "cwk_"+id+"_") {
			t.Fatalf("key %q (id %s): bad shape", plain, id)
		}
		got, err := KeyID(plain)
		if err != nil || got != id {
			t.Fatalf("KeyID(%q) = %q, %v; want %s", plain, got, err, id)
		}
		if seen[plain] {
			t.Fatalf("key %q drawn twice", plain)
		}
		seen[plain] = true
	}
}

func TestNewKeyShortRandomness(t *testing.T) {
	if _, _, err := NewKey(bytes.NewReader(make([]byte, 10))); err == nil {
		t.Fatal("NewKey with 10 random bytes succeeded")
	}
}

func TestKeyIDRefusesMalformed(t *testing.T) {
	_, good, err := NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"", "cwk_", good[:len(good)-1], good + "A", strings.Replace(good, "cwk_", "cwx_", 1),
		"cwk_" + strings.Repeat("G", 16) + good[20:],            // id not hex
		"cwk_" + strings.ToUpper(good[4:20]) + good[20:],        // id in upper case
		good[:20] + "-" + good[21:],                             // separator
		good[:21] + "!" + good[22:],                             // secret not base64url
		"eyJhbGciOiJIUzI1NiJ9.eyJ0ZW5hbnQiOiJBIn0.c2lnbmF0dXJl", // a token
	} {
		if _, err := KeyID(bad); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("KeyID(%q) = %v, want ErrUnauthenticated", bad, err)
		}
	}
}

func TestKeyRecord(t *testing.T) {
	id, plain, err := NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	k := KeyRecord{ID: id, Tenant: "A", Hash: HashKey(plain), Permissions: []string{"read:*"}, CreatedAt: now.UnixMilli(),
		ExpiresAt: now.Add(time.Hour).UnixMilli()}
	if err := k.Validate(); err != nil {
		t.Fatal(err)
	}
	if !k.Matches(plain) {
		t.Fatal("a key does not match its own record")
	}
	_, other, _ := NewKey(rand.Reader)
	if k.Matches(other) || k.Matches(testkey.Wrong(plain)) {
		t.Fatal("another key matches")
	}
	if k.Expired(now) || !k.Expired(now.Add(time.Hour)) {
		t.Fatal("expiry is wrong")
	}
	p, err := k.Principal()
	if err != nil || p.Tenant != "A" || p.KeyID != id || len(p.Grants) != 1 {
		t.Fatalf("Principal = %+v, %v", p, err)
	}
	for name, mut := range map[string]func(*KeyRecord){
		"bad id":         func(k *KeyRecord) { k.ID = "x" },
		"bad tenant":     func(k *KeyRecord) { k.Tenant = "../B" },
		"bad hash":       func(k *KeyRecord) { k.Hash = "abc" },
		"bad permission": func(k *KeyRecord) { k.Permissions = []string{"all"} },
		"long name":      func(k *KeyRecord) { k.Name = strings.Repeat("n", 300) },
	} {
		bad := k
		mut(&bad)
		if err := bad.Validate(); err == nil {
			t.Errorf("%s: Validate passed", name)
		}
	}
}
