package broker_test

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/broker/vfs"
	"github.com/causeway/causeway/internal/pebblekv"
)

func TestClassifyRefusal(t *testing.T) {
	enospc := &fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}
	for _, tc := range []struct {
		err  error
		want broker.RefusalReason
	}{
		{enospc, broker.RefusedNoSpace},
		{fmt.Errorf("shell: journal write: %w", enospc), broker.RefusedNoSpace},
		{fmt.Errorf("%w: meta: %w", pebblekv.ErrWritesRefused, pebblekv.ErrLowSpace), broker.RefusedNoSpace},
		{fmt.Errorf("%w: meta: %w", pebblekv.ErrWritesRefused, errors.New("x")), broker.RefusedUnavailable},
		{fmt.Errorf("%w: %w", segment.ErrFailed, &fs.PathError{Op: "sync", Err: syscall.EIO}), broker.RefusedStorage},
		{&fs.PathError{Op: "write", Err: syscall.EIO}, broker.RefusedStorage},
		{broker.ErrMessageTooLarge, broker.RefusedTooLarge},
		{broker.ErrJoining, broker.RefusedUnavailable},
		{errors.New("something"), broker.RefusedOther},
	} {
		if got := broker.ClassifyRefusal(tc.err); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestRefusalsDoNotFloodTheLog publishes 5,000 messages one by one on a
// full disk: each is refused, counted under no_space, and the log gets one
// warning, not 5,000.
func TestRefusalsDoNotFloodTheLog(t *testing.T) {
	inj := &vfs.Injector{}
	core, logs := observer.New(zapcore.InfoLevel)
	n, err := broker.Open(broker.Config{DataDir: t.TempDir(), DiskFaults: inj}, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	s, err := n.StreamForUse(naming.Stream{Persistent: true, Tenant: naming.DefaultTenant, Fabric: naming.SystemFabric, Name: "s"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.AttachProducer("p", -1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	inj.NoSpaceAfter(0)
	const refused = 5000
	for i := range refused {
		if r := p.Publish([]broker.Message{{Payload: []byte("x"), SequenceID: int64(i)}})[0]; r.Err == nil {
			t.Fatalf("publish %d stored on a full disk", i)
		}
	}
	if got := n.Metrics().PublishRefusals()[broker.RefusedNoSpace]; got != refused {
		t.Fatalf("no_space refusals: %d, want %d (all: %v)", got, refused, n.Metrics().PublishRefusals())
	}
	if lines := logs.FilterMessage("publish failed").Len(); lines != 1 {
		t.Fatalf("%d 'publish failed' lines for %d refusals, want 1", lines, refused)
	}
	if total := logs.Len(); total > 10 {
		t.Fatalf("%d log lines for %d refusals", total, refused)
	}
}
