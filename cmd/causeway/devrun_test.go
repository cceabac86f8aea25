package main

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// devRun is a `causeway dev` process a test started.
type devRun struct {
	t           *testing.T
	cmd         *exec.Cmd
	out, errOut syncBuffer
	exited      chan error
	stopped     bool
	fabric      fabricFile
}

// startDev runs `causeway dev` with args (which name --data dir) and waits
// for its fabric.json; the process is killed when the test ends unless it
// was stopped.
func startDev(t *testing.T, bin, dir string, args ...string) *devRun {
	t.Helper()
	d := &devRun{t: t, cmd: exec.Command(bin, append([]string{"dev"}, args...)...), exited: make(chan error, 1)}
	d.cmd.Stdout, d.cmd.Stderr = &d.out, &d.errOut
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.exited <- d.cmd.Wait() }()
	t.Cleanup(func() {
		if !d.stopped {
			_ = d.cmd.Process.Kill()
			<-d.exited
		}
	})
	for deadline := time.Now().Add(geoTimeout); ; {
		var err error
		if d.fabric, err = readFabricFile(dir); err == nil {
			return d
		}
		select {
		case err := <-d.exited:
			d.stopped = true
			t.Fatalf("causeway dev exited: %v\n%s", err, d.errOut.String())
		case <-time.After(20 * time.Millisecond): // pacing a check with a deadline
		}
		if time.Now().After(deadline) {
			t.Fatalf("no fabric.json after %s", geoTimeout)
		}
	}
}

// waitOutput waits until what the process printed holds every want (the
// how-to is printed once fabric.json is written) and returns it.
func (d *devRun) waitOutput(wants ...string) string {
	d.t.Helper()
	for _, want := range wants {
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(d.out.String(), want); {
			if time.Now().After(deadline) {
				d.t.Fatalf("no %q in the printed output:\n%s", want, d.out.String())
			}
			time.Sleep(20 * time.Millisecond) // pacing a check with a deadline
		}
	}
	return d.out.String()
}

// stop sends SIGTERM and fails the test unless the process exits cleanly
// in time.
func (d *devRun) stop() {
	d.t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.exited:
		d.stopped = true
		if err != nil {
			d.t.Fatalf("causeway dev exit: %v\n%s", err, d.errOut.String())
		}
	case <-time.After(geoTimeout):
		d.t.Fatal("causeway dev did not stop on SIGTERM")
	}
}
