package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/causeway/causeway/broker/naming"
)

// An API key reads "cwk_" + 16 hex digits (its id, public) + "_" + 43
// base64url characters (256 random bits, secret). Only its SHA-256 is
// stored; the key itself is shown once, when it is created.
const (
	keyPrefix      = "cwk_"
	keyIDBytes     = 8
	keySecretBytes = 32
	keyIDLen       = 2 * keyIDBytes
	keySecretLen   = (keySecretBytes*8 + 5) / 6 // unpadded base64
	keyLen         = len(keyPrefix) + keyIDLen + 1 + keySecretLen
)

// NewKey draws a new key from rnd (crypto/rand.Reader in production) and
// returns its id and its full text.
func NewKey(rnd io.Reader) (id, plain string, err error) {
	var b [keyIDBytes + keySecretBytes]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", "", fmt.Errorf("auth: draw key: %w", err)
	}
	id = hex.EncodeToString(b[:keyIDBytes])
	return id, keyPrefix + id + "_" + base64.RawURLEncoding.EncodeToString(b[keyIDBytes:]), nil
}

// IsKey reports whether s has the shape of an API key (not whether it is
// a valid one).
func IsKey(s string) bool {
	_, err := KeyID(s)
	return err == nil
}

// KeyID returns the id part of a key, checking the key's shape.
func KeyID(plain string) (string, error) {
	if len(plain) != keyLen || plain[:len(keyPrefix)] != keyPrefix || plain[len(keyPrefix)+keyIDLen] != '_' {
		return "", ErrUnauthenticated
	}
	id := plain[len(keyPrefix) : len(keyPrefix)+keyIDLen]
	if !validKeyID(id) {
		return "", ErrUnauthenticated
	}
	if _, err := base64.RawURLEncoding.DecodeString(plain[len(keyPrefix)+keyIDLen+1:]); err != nil {
		return "", ErrUnauthenticated
	}
	return id, nil
}

func validKeyID(id string) bool {
	if len(id) != keyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// HashKey is the stored form of a key: hex SHA-256. A key carries 256
// random bits, so a fast hash is enough (no password stretching needed).
func HashKey(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// KeyRecord is an API key as the store keeps it.
type KeyRecord struct {
	ID          string   `json:"id"`
	Tenant      string   `json:"tenant"`
	Name        string   `json:"name,omitempty"`
	Hash        string   `json:"hash"`
	Permissions []string `json:"permissions"`
	Superuser   bool     `json:"superuser,omitempty"`
	// CreatedAt and ExpiresAt are Unix milliseconds; ExpiresAt 0 = never.
	CreatedAt int64  `json:"createdAt"`
	ExpiresAt int64  `json:"expiresAt,omitempty"`
	CreatedBy string `json:"createdBy,omitempty"`
	// SCRAM is the SCRAM-SHA-256 credential derived from the key, for
	// Kafka clients (username: the key id, password: the key).
	SCRAM *SCRAMCredential `json:"scram,omitempty"`
	// Origin is the region that created the key fabric-wide (over the API
	// of a multi-region node: replication.go); "" for a key of this node
	// only (the bootstrap or configured admin key, a key created while the
	// node had no peers).
	Origin string `json:"origin,omitempty"`
	// Stamp is the stamp of the event that set Permissions (the creation
	// or the latest grant change that won, merge.go); nil for a key never
	// changed through an event.
	Stamp *Stamp `json:"stamp,omitempty"`
}

// maxKeyNameBytes bounds a key's human label.
const maxKeyNameBytes = 256

// Validate checks a record (one read back from disk included).
func (k KeyRecord) Validate() error {
	if !validKeyID(k.ID) {
		return fmt.Errorf("%w: key id %q", ErrBadRequest, k.ID)
	}
	if err := naming.Validate("tenant", k.Tenant); err != nil {
		return fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if len(k.Name) > maxKeyNameBytes {
		return fmt.Errorf("%w: key name is %d bytes, the limit is %d", ErrBadRequest, len(k.Name), maxKeyNameBytes)
	}
	if h, err := hex.DecodeString(k.Hash); err != nil || len(h) != sha256.Size {
		return fmt.Errorf("%w: key %s: bad hash", ErrBadRequest, k.ID)
	}
	if _, err := ParseGrants(k.Permissions); err != nil {
		return err
	}
	if k.Origin != "" {
		if err := naming.Validate("region", k.Origin); err != nil {
			return fmt.Errorf("%w: key %s: origin: %v", ErrBadRequest, k.ID, err)
		}
	}
	return nil
}

// DecodeKeyRecord parses and validates a stored record.
func DecodeKeyRecord(b []byte) (KeyRecord, error) {
	var k KeyRecord
	if err := json.Unmarshal(b, &k); err != nil {
		return KeyRecord{}, fmt.Errorf("%w: key record: %v", ErrBadRequest, err)
	}
	if err := k.Validate(); err != nil {
		return KeyRecord{}, err
	}
	return k, nil
}

// Expired reports whether the key has expired at now.
func (k KeyRecord) Expired(now time.Time) bool {
	return k.ExpiresAt != 0 && now.UnixMilli() >= k.ExpiresAt
}

// Matches reports, in constant time, whether plain is this record's key.
func (k KeyRecord) Matches(plain string) bool {
	return subtle.ConstantTimeCompare([]byte(HashKey(plain)), []byte(k.Hash)) == 1
}

// Principal is who the key acts as.
func (k KeyRecord) Principal() (*Principal, error) {
	gs, err := ParseGrants(k.Permissions)
	if err != nil {
		return nil, err
	}
	p := &Principal{ID: "key:" + k.ID, Tenant: k.Tenant, Superuser: k.Superuser, Grants: gs, KeyID: k.ID}
	if k.ExpiresAt > 0 {
		p.Expires = time.UnixMilli(k.ExpiresAt)
	}
	return p, nil
}
