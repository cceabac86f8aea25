package vfs

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// MemFS is an in-memory FS that remembers what a power cut would keep: the
// bytes of each file as of its last Sync, and the directory entries as of
// each directory's last SyncDir. Directories themselves are always durable.
// It is safe for concurrent use.
type MemFS struct {
	mu      sync.Mutex
	dirs    map[string]bool
	files   map[string]*memNode // the namespace as the running program sees it
	durable map[string]*memNode // the namespace a crash would leave
}

// memNode is one file's contents: what the program sees, and what a power
// cut would leave (durable, as of the last Sync). Since that Sync every
// change lies in [dirtyLo, dirtyHi) or past the durable length.
type memNode struct {
	mu               sync.Mutex
	data             []byte
	durable          []byte
	dirtyLo, dirtyHi int
}

func (n *memNode) markDirty(lo, hi int) {
	if n.dirtyLo >= n.dirtyHi { // clean
		n.dirtyLo, n.dirtyHi = lo, hi
		return
	}
	n.dirtyLo, n.dirtyHi = min(n.dirtyLo, lo), max(n.dirtyHi, hi)
}

func (n *memNode) syncLocked() {
	if len(n.durable) > len(n.data) {
		n.durable = n.durable[:len(n.data)]
	} else if len(n.durable) < len(n.data) {
		n.durable = append(n.durable, make([]byte, len(n.data)-len(n.durable))...)
	}
	if lo, hi := n.dirtyLo, min(n.dirtyHi, len(n.data)); lo < hi {
		copy(n.durable[lo:hi], n.data[lo:hi])
	}
	n.dirtyLo, n.dirtyHi = 0, 0
}

// crashLocked returns the contents a power cut would leave, keeping the
// first torn(unsynced) of the bytes changed since the last Sync.
func (n *memNode) crashLocked(torn func(unsynced int) int) []byte {
	out := append([]byte(nil), n.durable...)
	lo, hi := n.dirtyLo, min(n.dirtyHi, len(n.data))
	if lo >= hi || torn == nil {
		return out
	}
	keep := min(max(torn(hi-lo), 0), hi-lo)
	if end := lo + keep; end > len(out) {
		out = append(out, make([]byte, end-len(out))...)
	}
	copy(out[lo:lo+keep], n.data[lo:lo+keep])
	return out
}

// writeAtLocked stores p at off, zero-filling any gap.
func (n *memNode) writeAtLocked(p []byte, off int) {
	if off > len(n.data) {
		n.markDirty(len(n.data), off)
		n.data = append(n.data, make([]byte, off-len(n.data))...)
	}
	if end := off + len(p); end > len(n.data) {
		n.data = append(n.data[:off], p...)
	} else {
		copy(n.data[off:], p)
	}
	n.markDirty(off, off+len(p))
}

// NewMem returns an empty in-memory filesystem whose root directory exists.
func NewMem() *MemFS {
	return &MemFS{
		dirs:    map[string]bool{string(filepath.Separator): true, ".": true},
		files:   map[string]*memNode{},
		durable: map[string]*memNode{},
	}
}

// CrashClone returns the filesystem as it would be found after a power cut:
// each file named in a synced directory, holding its synced bytes overlaid
// with the first tornBytes(unsynced) of the bytes changed since its last
// Sync, in file order (clamped to [0, unsynced]; nil keeps none). Changes to
// a file's size are durable only when synced. The clone shares nothing with
// m.
func (m *MemFS) CrashClone(tornBytes func(unsynced int) int) *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := NewMem()
	for d := range m.dirs {
		c.dirs[d] = true
	}
	names := make([]string, 0, len(m.durable))
	for name := range m.durable {
		names = append(names, name)
	}
	sort.Strings(names) // deterministic calls to tornBytes
	for _, name := range names {
		n := m.durable[name]
		n.mu.Lock()
		data := n.crashLocked(tornBytes)
		n.mu.Unlock()
		nn := &memNode{data: data, durable: append([]byte(nil), data...)}
		c.files[name] = nn
		c.durable[name] = nn
	}
	return c
}

func clean(name string) string { return filepath.Clean(name) }

func (m *MemFS) parentExists(name string) bool {
	return m.dirs[filepath.Dir(name)]
}

func pathErr(op, name string, err error) error { return &fs.PathError{Op: op, Path: name, Err: err} }

// OpenFile implements FS.
func (m *MemFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirs[name] {
		return nil, pathErr("open", name, fs.ErrInvalid)
	}
	n, ok := m.files[name]
	switch {
	case ok && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, pathErr("open", name, fs.ErrExist)
	case !ok && flag&os.O_CREATE == 0:
		return nil, pathErr("open", name, fs.ErrNotExist)
	case !ok:
		if !m.parentExists(name) {
			return nil, pathErr("open", name, fs.ErrNotExist)
		}
		n = &memNode{}
		m.files[name] = n
	}
	writable := flag&(os.O_WRONLY|os.O_RDWR) != 0
	if flag&os.O_TRUNC != 0 && writable {
		n.mu.Lock()
		n.truncateLocked(0)
		n.mu.Unlock()
	}
	return &memFile{
		node:     n,
		name:     name,
		readable: flag&os.O_WRONLY == 0,
		writable: writable,
		append:   flag&os.O_APPEND != 0,
	}, nil
}

// Remove implements FS.
func (m *MemFS) Remove(name string) error {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[name]; ok {
		delete(m.files, name)
		return nil
	}
	if !m.dirs[name] {
		return pathErr("remove", name, fs.ErrNotExist)
	}
	if len(m.childrenLocked(name)) > 0 {
		return pathErr("remove", name, fs.ErrInvalid)
	}
	delete(m.dirs, name)
	return nil
}

// RemoveAll implements FS.
func (m *MemFS) RemoveAll(name string) error {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	prefix := name + string(filepath.Separator)
	for f := range m.files {
		if f == name || strings.HasPrefix(f, prefix) {
			delete(m.files, f)
		}
	}
	for d := range m.dirs {
		if d == name || strings.HasPrefix(d, prefix) {
			delete(m.dirs, d)
		}
	}
	// Removing a whole tree is treated as durable at once: a crash does not
	// bring back files of a directory that no longer exists.
	for f := range m.durable {
		if f == name || strings.HasPrefix(f, prefix) {
			delete(m.durable, f)
		}
	}
	return nil
}

// Rename implements FS (files only).
func (m *MemFS) Rename(oldname, newname string) error {
	oldname, newname = clean(oldname), clean(newname)
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.files[oldname]
	if !ok {
		return pathErr("rename", oldname, fs.ErrNotExist)
	}
	if !m.parentExists(newname) || m.dirs[newname] {
		return pathErr("rename", newname, fs.ErrInvalid)
	}
	delete(m.files, oldname)
	m.files[newname] = n
	return nil
}

// MkdirAll implements FS.
func (m *MemFS) MkdirAll(dir string, perm os.FileMode) error {
	dir = clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	var missing []string
	for d := dir; !m.dirs[d]; d = filepath.Dir(d) {
		if _, ok := m.files[d]; ok {
			return pathErr("mkdir", d, fs.ErrExist)
		}
		missing = append(missing, d)
	}
	for _, d := range missing {
		m.dirs[d] = true
	}
	return nil
}

// childrenLocked returns the names of dir's direct entries.
func (m *MemFS) childrenLocked(dir string) []string {
	var names []string
	for f := range m.files {
		if filepath.Dir(f) == dir {
			names = append(names, filepath.Base(f))
		}
	}
	for d := range m.dirs {
		if d != dir && filepath.Dir(d) == dir {
			names = append(names, filepath.Base(d))
		}
	}
	return names
}

// ReadDir implements FS.
func (m *MemFS) ReadDir(dir string) ([]string, error) {
	dir = clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[dir] {
		return nil, pathErr("readdir", dir, fs.ErrNotExist)
	}
	names := m.childrenLocked(dir)
	sort.Strings(names)
	return names, nil
}

// Stat implements FS.
func (m *MemFS) Stat(name string) (os.FileInfo, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirs[name] {
		return memInfo{name: filepath.Base(name), dir: true}, nil
	}
	n, ok := m.files[name]
	if !ok {
		return nil, pathErr("stat", name, fs.ErrNotExist)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return memInfo{name: filepath.Base(name), size: int64(len(n.data))}, nil
}

// SyncDir implements FS: the entries of dir become durable as they are now.
func (m *MemFS) SyncDir(dir string) error {
	dir = clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[dir] {
		return pathErr("syncdir", dir, fs.ErrNotExist)
	}
	for f := range m.durable {
		if filepath.Dir(f) == dir {
			delete(m.durable, f)
		}
	}
	for f, n := range m.files {
		if filepath.Dir(f) == dir {
			m.durable[f] = n
		}
	}
	return nil
}

// truncateLocked sets the node's size.
func (n *memNode) truncateLocked(size int) {
	if size <= len(n.data) {
		n.markDirty(size, size)
		n.data = n.data[:size:size] // later growth must not resurrect old bytes
		return
	}
	n.markDirty(len(n.data), size)
	n.data = append(n.data, make([]byte, size-len(n.data))...)
}

type memFile struct {
	node     *memNode
	name     string
	readable bool
	writable bool
	append   bool

	mu     sync.Mutex
	pos    int
	closed bool
}

func (f *memFile) check(op string, want bool) error {
	if f.closed {
		return pathErr(op, f.name, fs.ErrClosed)
	}
	if !want {
		return pathErr(op, f.name, fs.ErrPermission)
	}
	return nil
}

func (f *memFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check("write", f.writable); err != nil {
		return 0, err
	}
	n := f.node
	n.mu.Lock()
	defer n.mu.Unlock()
	if f.append {
		f.pos = len(n.data)
	}
	n.writeAtLocked(p, f.pos)
	f.pos += len(p)
	return len(p), nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check("writeat", f.writable); err != nil {
		return 0, err
	}
	if f.append || off < 0 {
		return 0, pathErr("writeat", f.name, fs.ErrInvalid)
	}
	f.node.mu.Lock()
	f.node.writeAtLocked(p, int(off))
	f.node.mu.Unlock()
	return len(p), nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	err := f.check("read", f.readable)
	f.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("read", f.name, fs.ErrInvalid)
	}
	n := f.node
	n.mu.Lock()
	defer n.mu.Unlock()
	if off >= int64(len(n.data)) {
		return 0, io.EOF
	}
	c := copy(p, n.data[off:])
	if c < len(p) {
		return c, io.EOF
	}
	return c, nil
}

func (f *memFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return pathErr("close", f.name, fs.ErrClosed)
	}
	f.closed = true
	return nil
}

func (f *memFile) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check("sync", true); err != nil {
		return err
	}
	f.node.mu.Lock()
	f.node.syncLocked()
	f.node.mu.Unlock()
	return nil
}

func (f *memFile) Truncate(size int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check("truncate", f.writable); err != nil {
		return err
	}
	if size < 0 {
		return pathErr("truncate", f.name, fs.ErrInvalid)
	}
	f.node.mu.Lock()
	f.node.truncateLocked(int(size))
	f.node.mu.Unlock()
	return nil
}

func (f *memFile) Stat() (os.FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check("stat", true); err != nil {
		return nil, err
	}
	f.node.mu.Lock()
	defer f.node.mu.Unlock()
	return memInfo{name: filepath.Base(f.name), size: int64(len(f.node.data))}, nil
}

type memInfo struct {
	name string
	size int64
	dir  bool
}

func (i memInfo) Name() string { return i.name }
func (i memInfo) Size() int64  { return i.size }
func (i memInfo) Mode() os.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return i.dir }
func (i memInfo) Sys() any           { return nil }
