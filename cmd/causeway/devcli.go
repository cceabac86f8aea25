package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.uber.org/zap"
)

// goRunCLI runs the CLI from a checkout, compiling it first.
const goRunCLI = "go run ./cmd/causeway"

// devCLI makes the commands `causeway dev` prints run as shown: it copies
// the running binary to DATA/bin/causeway (`go run` builds into a
// temporary directory it removes at exit, and a fresh clone has no
// causeway on its PATH) and returns that path, or goRunCLI when it cannot.
func devCLI(data string, log *zap.Logger) string {
	self, err := os.Executable()
	if err == nil {
		dst := filepath.Join(data, "bin", "causeway")
		if err = copyExecutable(self, dst); err == nil {
			if !strings.ContainsRune(dst, filepath.Separator) {
				dst = "." + string(filepath.Separator) + dst
			}
			return dst
		}
	}
	log.Warn("the printed commands use go run: the binary could not be copied", zap.Error(err))
	return goRunCLI
}

// copyExecutable copies the file at src to dst (created or replaced,
// executable), through a temporary file renamed into place.
func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// withCLI rewrites the commands of a banner (lines "  causeway ..." and
// "... | causeway ...") to run cli instead.
func withCLI(banner, cli string) string {
	if cli == "causeway" {
		return banner
	}
	return strings.NewReplacer("\n  causeway ", "\n  "+cli+" ", "| causeway ", "| "+cli+" ").Replace(banner)
}
