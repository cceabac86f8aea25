package meta

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/causeway/causeway/broker/vfs"
)

// identity is a node's life in the region: kept in DataDir/region/identity.json.
type identity struct {
	Incarnation uint64 `json:"incarnation"`
	ReplicaID   uint64 `json:"replicaID"`
	// Voter: the replica votes in the group (a bootstrap voter, or a
	// joiner once promoted); a joiner starts as a non-voting member.
	Voter bool `json:"voter"`
}

func identityPath(dataDir string) string { return filepath.Join(dataDir, "region", "identity.json") }

// loadIdentity returns the node's identity, or fs.ErrNotExist for a new
// (or wiped) data directory.
func loadIdentity(dataDir string) (identity, error) {
	var id identity
	b, err := os.ReadFile(identityPath(dataDir))
	if err != nil {
		return id, err
	}
	if err := json.Unmarshal(b, &id); err != nil || id.Incarnation == 0 || id.ReplicaID == 0 {
		return id, fmt.Errorf("meta: %s is damaged (%v): move the data directory away to rejoin the region as a new life", identityPath(dataDir), err)
	}
	return id, nil
}

// saveIdentity writes the identity durably.
func saveIdentity(dataDir string, id identity) error {
	if err := os.MkdirAll(filepath.Dir(identityPath(dataDir)), 0o755); err != nil {
		return fmt.Errorf("meta: %w", err)
	}
	b, _ := json.Marshal(id)
	if err := vfs.WriteFileAtomic(vfs.OS(), identityPath(dataDir), b, 0o644); err != nil {
		return fmt.Errorf("meta: save identity: %w", err)
	}
	return nil
}

// random63 is a random non-zero id that fits JSON numbers exactly and never
// collides with small node ids (bit 52 set).
func random63() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])&(1<<52-1) | 1<<52
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
