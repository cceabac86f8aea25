package auth

import (
	"fmt"
	"io"

	"github.com/xdg-go/scram"
)

// scramIters is the PBKDF2 iteration count of SCRAM credentials (Kafka's
// minimum for SCRAM-SHA-256).
const scramIters = 4096

// scramSaltBytes is the length of a SCRAM salt.
const scramSaltBytes = 16

// SCRAMCredential is what a server stores to check a SCRAM-SHA-256 login
// (RFC 5802) without knowing the password.
type SCRAMCredential struct {
	Salt      []byte `json:"salt"`
	Iters     int    `json:"iters"`
	StoredKey []byte `json:"storedKey"`
	ServerKey []byte `json:"serverKey"`
}

// DeriveSCRAM computes the SCRAM-SHA-256 credential of username and
// password with a salt drawn from rnd.
func DeriveSCRAM(rnd io.Reader, username, password string) (*SCRAMCredential, error) {
	salt := make([]byte, scramSaltBytes)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return nil, fmt.Errorf("auth: draw scram salt: %w", err)
	}
	c, err := scram.SHA256.NewClient(username, password, "")
	if err != nil {
		return nil, fmt.Errorf("auth: scram client: %w", err)
	}
	sc, err := c.GetStoredCredentialsWithError(scram.KeyFactors{Salt: string(salt), Iters: scramIters})
	if err != nil {
		return nil, fmt.Errorf("auth: derive scram credential: %w", err)
	}
	return &SCRAMCredential{Salt: salt, Iters: scramIters, StoredKey: sc.StoredKey, ServerKey: sc.ServerKey}, nil
}

// Stored is the credential in the scram library's form.
func (c *SCRAMCredential) Stored() scram.StoredCredentials {
	return scram.StoredCredentials{
		KeyFactors: scram.KeyFactors{Salt: string(c.Salt), Iters: c.Iters},
		StoredKey:  c.StoredKey,
		ServerKey:  c.ServerKey,
	}
}
