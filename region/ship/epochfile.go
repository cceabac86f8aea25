package ship

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/causeway/causeway/broker/vfs"
	"github.com/causeway/causeway/region"
)

// epochFileName is the replica's leader epoch history, in the log's
// directory (segment logs ignore files they do not know).
const epochFileName = "leader-epochs.json"

const maxEpochFileBytes = 1 << 20

// loadEpochs reads the history saved in dir (empty if there is none).
func loadEpochs(fsys vfs.FS, dir string) (region.Epochs, error) {
	b, err := readFile(fsys, filepath.Join(dir, epochFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ship: read epochs in %s: %w", dir, err)
	}
	if len(b) > maxEpochFileBytes {
		return nil, fmt.Errorf("ship: epochs in %s: %d bytes", dir, len(b))
	}
	var e region.Epochs
	if len(b) == 0 {
		// The file was never completed (WriteFileAtomic renames only a
		// written, synced file): start without a history.
		return nil, nil
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("ship: epochs in %s: %w", dir, err)
	}
	for i := 1; i < len(e); i++ {
		if e[i].Epoch <= e[i-1].Epoch || e[i].Offset < e[i-1].Offset {
			return nil, fmt.Errorf("ship: epochs in %s are not increasing at %d", dir, i)
		}
	}
	return e, nil
}

// saveEpochs replaces the history saved in dir, durably.
func saveEpochs(fsys vfs.FS, dir string, e region.Epochs) error {
	if e == nil {
		e = region.Epochs{}
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("ship: encode epochs: %w", err)
	}
	if err := vfs.WriteFileAtomic(fsys, filepath.Join(dir, epochFileName), b, 0o644); err != nil {
		return fmt.Errorf("ship: save epochs in %s: %w", dir, err)
	}
	return nil
}

// epochAt returns the epoch of the record at offset in a log with history
// e (0 if the history does not reach back to it).
func epochAt(e region.Epochs, offset uint64) uint64 {
	for i := len(e) - 1; i >= 0; i-- {
		if e[i].Offset <= offset {
			return e[i].Epoch
		}
	}
	return 0
}

// readFile reads a whole small file.
func readFile(fsys vfs.FS, name string) ([]byte, error) {
	f, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxEpochFileBytes {
		return nil, fmt.Errorf("%d bytes", st.Size())
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b, nil
}
