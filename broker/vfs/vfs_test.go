package vfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func mustWrite(t *testing.T, f File, s string) {
	t.Helper()
	if n, err := f.Write([]byte(s)); err != nil || n != len(s) {
		t.Fatalf("write %q: n=%d err=%v", s, n, err)
	}
}

func readAll(t *testing.T, fsys FS, name string) string {
	t.Helper()
	f, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, st.Size())
	if _, err := f.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return string(buf)
}

// TestFSContract runs the same operations against the real disk and MemFS.
func TestFSContract(t *testing.T) {
	for _, tc := range []struct {
		name string
		fs   FS
		dir  string
	}{
		{"os", OS(), t.TempDir()},
		{"mem", NewMem(), "/data"},
		{"faulty-mem", NewFaulty(NewMem(), &Injector{}), "/data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys, dir := tc.fs, filepath.Join(tc.dir, "a", "b")
			if err := fsys.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			name := filepath.Join(dir, "f")
			if _, err := fsys.OpenFile(name, os.O_RDONLY, 0); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("open missing: %v", err)
			}
			f, err := fsys.OpenFile(name, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fsys.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o644); !errors.Is(err, fs.ErrExist) {
				t.Fatalf("O_EXCL on existing file: %v", err)
			}
			mustWrite(t, f, "hello ")
			mustWrite(t, f, "world")
			buf := make([]byte, 5)
			if n, err := f.ReadAt(buf, 6); err != nil || string(buf[:n]) != "world" {
				t.Fatalf("ReadAt = %q, %v", buf[:n], err)
			}
			if n, err := f.ReadAt(buf, 9); !errors.Is(err, io.EOF) || n != 2 {
				t.Fatalf("short ReadAt = %d, %v; want 2, EOF", n, err)
			}
			if err := f.Truncate(5); err != nil {
				t.Fatal(err)
			}
			mustWrite(t, f, "!") // O_APPEND writes at the new end
			if _, err := f.WriteAt([]byte("x"), 0); err == nil {
				t.Fatal("WriteAt accepted on an O_APPEND file")
			}
			if err := f.Sync(); err != nil {
				t.Fatal(err)
			}
			if st, err := f.Stat(); err != nil || st.Size() != 6 {
				t.Fatalf("Stat = %v, %v", st, err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, fsys, name); got != "hello!" {
				t.Fatalf("contents = %q", got)
			}
			g, err := fsys.OpenFile(name, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := g.WriteAt([]byte("J"), 0); err != nil {
				t.Fatal(err)
			}
			if _, err := g.WriteAt([]byte("?"), 8); err != nil {
				t.Fatal(err)
			}
			g.Close()
			if got := readAll(t, fsys, name); got != "Jello!\x00\x00?" {
				t.Fatalf("after WriteAt: %q", got)
			}
			if err := fsys.Rename(name, name+"2"); err != nil {
				t.Fatal(err)
			}
			if err := fsys.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			names, err := fsys.ReadDir(dir)
			if err != nil || strings.Join(names, ",") != "f2,sub" {
				t.Fatalf("ReadDir = %v, %v", names, err)
			}
			if err := fsys.SyncDir(dir); err != nil {
				t.Fatal(err)
			}
			if st, err := fsys.Stat(filepath.Join(dir, "sub")); err != nil || !st.IsDir() {
				t.Fatalf("Stat dir = %v, %v", st, err)
			}
			if err := fsys.Remove(name + "2"); err != nil {
				t.Fatal(err)
			}
			if _, err := fsys.Stat(name + "2"); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("Stat removed = %v", err)
			}
			if err := fsys.RemoveAll(filepath.Join(tc.dir, "a")); err != nil {
				t.Fatal(err)
			}
			if _, err := fsys.ReadDir(dir); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("ReadDir after RemoveAll = %v", err)
			}
			if err := fsys.RemoveAll(filepath.Join(tc.dir, "missing")); err != nil {
				t.Fatalf("RemoveAll missing = %v", err)
			}
		})
	}
}

func TestMemCrashClone(t *testing.T) {
	m := NewMem()
	if err := m.MkdirAll("/d", 0o755); err != nil {
		t.Fatal(err)
	}
	open := func(name string) File {
		f, err := m.OpenFile(name, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	a := open("/d/a")
	mustWrite(t, a, "synced")
	a.Sync()
	mustWrite(t, a, "-unsynced")
	if err := m.SyncDir("/d"); err != nil {
		t.Fatal(err)
	}
	b := open("/d/b") // created after the SyncDir: lost in a crash
	mustWrite(t, b, "x")
	b.Sync()
	c := open("/d/c")
	mustWrite(t, c, "abcdef")
	c.Sync()
	c.Truncate(2) // a rewrite of synced bytes, never synced itself: torn over the synced ones
	mustWrite(t, c, "ZZ")
	m.SyncDir("/d")
	if err := m.Remove("/d/b"); err != nil { // removal not synced: comes back
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name         string
		torn         func(int) int
		wantA, wantC string
	}{
		{"none", nil, "synced", "abcdef"},
		{"prefix", func(n int) int { return 1 }, "synced-", "abZdef"},
		{"all", func(n int) int { return n }, "synced-unsynced", "abZZef"},
		{"clamped", func(n int) int { return n + 100 }, "synced-unsynced", "abZZef"},
		{"negative", func(n int) int { return -1 }, "synced", "abcdef"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := m.CrashClone(tc.torn)
			if got := readAll(t, c, "/d/a"); got != tc.wantA {
				t.Errorf("a = %q, want %q", got, tc.wantA)
			}
			if got := readAll(t, c, "/d/b"); got != "x" {
				t.Errorf("b = %q, want %q (removal was not synced)", got, "x")
			}
			if got := readAll(t, c, "/d/c"); got != tc.wantC {
				t.Errorf("c = %q, want %q", got, tc.wantC)
			}
		})
	}
	// The clone is independent and fully synced.
	cl := m.CrashClone(nil)
	f, _ := cl.OpenFile("/d/a", os.O_RDWR|os.O_APPEND, 0)
	mustWrite(t, f, "+")
	if got := readAll(t, m, "/d/a"); got != "synced-unsynced" {
		t.Errorf("original changed through clone: %q", got)
	}
	if got := readAll(t, cl.CrashClone(nil), "/d/a"); got != "synced" {
		t.Errorf("clone of clone = %q", got)
	}
	// Overwrites in place (of preallocated zeros) tear over the synced bytes,
	// and only synced truncations count.
	m3 := NewMem()
	p, _ := m3.OpenFile("/p", os.O_CREATE|os.O_RDWR, 0o644)
	m3.SyncDir("/")
	p.WriteAt(make([]byte, 8), 0)
	p.Sync()
	p.WriteAt([]byte("abcd"), 2)
	if got := readAll(t, m3.CrashClone(func(int) int { return 3 }), "/p"); got != "\x00\x00abc\x00\x00\x00" {
		t.Errorf("torn overwrite = %q", got)
	}
	p.Sync()
	p.Truncate(3)
	if got := readAll(t, m3.CrashClone(nil), "/p"); got != "\x00\x00abcd\x00\x00" {
		t.Errorf("unsynced truncation survived the crash: %q", got)
	}
	p.WriteAt([]byte("X"), 5) // after a truncation, the gap reads as zeros
	if got := readAll(t, m3, "/p"); got != "\x00\x00a\x00\x00X" {
		t.Errorf("write past a truncation = %q", got)
	}
	if got := readAll(t, m3.CrashClone(func(n int) int { return n }), "/p"); got != "\x00\x00a\x00\x00X\x00\x00" {
		t.Errorf("crash keeping every change = %q", got)
	}

	// A file never named in a synced directory is lost.
	m2 := NewMem()
	m2.MkdirAll("/e", 0o755)
	g, _ := m2.OpenFile("/e/g", os.O_CREATE|os.O_RDWR, 0o644)
	mustWrite(t, g, "data")
	g.Sync()
	if _, err := m2.CrashClone(nil).Stat("/e/g"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("unsynced directory entry survived the crash: %v", err)
	}
}

func TestMemErrors(t *testing.T) {
	m := NewMem()
	if _, err := m.OpenFile("/nodir/f", os.O_CREATE|os.O_RDWR, 0o644); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("create without parent: %v", err)
	}
	m.MkdirAll("/d", 0o755)
	f, _ := m.OpenFile("/d/f", os.O_CREATE|os.O_RDONLY, 0o644)
	if _, err := f.Write([]byte("x")); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("write to read-only file: %v", err)
	}
	f.Close()
	if _, err := f.ReadAt(make([]byte, 1), 0); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("read after close: %v", err)
	}
	if err := f.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("double close: %v", err)
	}
	if err := m.Remove("/d"); err == nil {
		t.Errorf("removed a non-empty directory")
	}
	if err := m.MkdirAll("/d/f/sub", 0o755); !errors.Is(err, fs.ErrExist) {
		t.Errorf("MkdirAll through a file: %v", err)
	}
	if _, err := m.Stat("/d/f/sub"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed MkdirAll left a directory behind: %v", err)
	}
}

func TestFaulty(t *testing.T) {
	type step struct {
		data    string
		wantErr error
	}
	for _, tc := range []struct {
		name   string
		arm    func(*Injector)
		steps  []step
		stored string
	}{
		{"no fault", func(*Injector) {}, []step{{"abc", nil}, {"def", nil}}, "abcdef"},
		{"fail second write", func(i *Injector) { i.FailWrite(2, 0) },
			[]step{{"abc", nil}, {"def", ErrInjected}, {"ghi", nil}}, "abcghi"},
		{"torn write", func(i *Injector) { i.FailWrite(1, 2) },
			[]step{{"abc", ErrInjected}, {"def", nil}}, "abdef"},
		{"torn longer than write", func(i *Injector) { i.FailWrite(1, 99) },
			[]step{{"abc", ErrInjected}}, "abc"},
		{"disk full", func(i *Injector) { i.NoSpaceAfter(4) },
			[]step{{"abc", nil}, {"def", syscall.ENOSPC}, {"g", syscall.ENOSPC}}, "abcd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inner := NewMem()
			inj := &Injector{}
			fsys := NewFaulty(inner, inj)
			f, err := fsys.OpenFile("/f", os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			tc.arm(inj)
			for i, s := range tc.steps {
				_, err := f.Write([]byte(s.data))
				if (s.wantErr == nil) != (err == nil) || (s.wantErr != nil && !errors.Is(err, s.wantErr)) {
					t.Fatalf("step %d: err = %v, want %v", i, err, s.wantErr)
				}
			}
			if got := readAll(t, inner, "/f"); got != tc.stored {
				t.Errorf("stored %q, want %q", got, tc.stored)
			}
			if inj.Writes() != len(tc.steps) {
				t.Errorf("Writes() = %d, want %d", inj.Writes(), len(tc.steps))
			}
		})
	}
}

func TestFaultySyncAndFilter(t *testing.T) {
	inner := NewMem()
	inj := &Injector{}
	fsys := NewFaulty(inner, inj)
	inj.SetFilter(func(name string) bool { return strings.HasSuffix(name, ".log") })
	log, _ := fsys.OpenFile("/x.log", os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	idx, _ := fsys.OpenFile("/x.index", os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err := fsys.SyncDir("/"); err != nil {
		t.Fatal(err)
	}
	inj.FailWrite(1, 0)
	inj.FailSync(1)
	if _, err := idx.Write([]byte("i")); err != nil {
		t.Fatalf("filtered-out file got a fault: %v", err)
	}
	if err := idx.Sync(); err != nil {
		t.Fatalf("filtered-out sync got a fault: %v", err)
	}
	mustWrite2 := func() error { _, err := log.Write([]byte("l")); return err }
	if err := mustWrite2(); !errors.Is(err, ErrInjected) {
		t.Fatalf("log write: %v", err)
	}
	log.Write([]byte("abc"))
	if err := log.Sync(); !errors.Is(err, ErrInjected) {
		t.Fatalf("log sync: %v", err)
	}
	// The failed sync synced nothing.
	if got := readAll(t, inner.CrashClone(nil), "/x.log"); got != "" {
		t.Fatalf("crash after failed sync kept %q", got)
	}
	if err := log.Sync(); err != nil {
		t.Fatalf("second sync: %v", err)
	}
	if got, want := inj.Injected(), 2; got != want { // before the read fault
		t.Errorf("Injected() = %d, want %d", got, want)
	}
	inj.FailRead(2)
	buf := make([]byte, 1)
	if _, err := log.ReadAt(buf, 0); err != nil {
		t.Fatalf("first read: %v", err)
	}
	if _, err := log.ReadAt(buf, 0); !errors.Is(err, ErrInjected) {
		t.Fatalf("second read: %v", err)
	}
	if _, err := idx.ReadAt(buf, 0); err != nil {
		t.Fatalf("filtered-out read: %v", err)
	}
	inj.NoSpaceAfter(0)
	inj.Reset()
	if err := mustWrite2(); err != nil {
		t.Errorf("write after Reset: %v", err)
	}
	if !bytes.Equal([]byte(readAll(t, inner, "/x.log")), []byte("abcl")) {
		t.Errorf("log = %q", readAll(t, inner, "/x.log"))
	}
}

func TestWriteFileAtomic(t *testing.T) {
	fsys := NewMem()
	if err := fsys.MkdirAll("/d", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, content := range []string{"first", "second, longer"} {
		if err := WriteFileAtomic(fsys, "/d/f", []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := fsys.OpenFile("/d/f", os.O_RDONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 64)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		if string(b[:n]) != content {
			t.Fatalf("read %q, want %q", b[:n], content)
		}
	}
	if _, err := fsys.Stat("/d/f.tmp"); err == nil {
		t.Fatal("temporary file left behind")
	}
}
