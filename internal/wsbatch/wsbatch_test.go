package wsbatch

import (
	"io"
	"net"
	"testing"
)

// countingConn counts the writes that reach the network.
type countingConn struct {
	net.Conn
	writes int
	data   []byte
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes++
	c.data = append(c.data, p...)
	return len(p), nil
}

func TestBatchesBetweenBeginAndEnd(t *testing.T) {
	raw := &countingConn{}
	c := New(raw)
	c.Begin()
	for _, s := range []string{"a", "bb", "ccc"} {
		if _, err := io.WriteString(c, s); err != nil {
			t.Fatal(err)
		}
	}
	if raw.writes != 0 {
		t.Fatalf("writes reached the network before End: %d", raw.writes)
	}
	if err := c.End(); err != nil {
		t.Fatal(err)
	}
	if raw.writes != 1 || string(raw.data) != "abbccc" {
		t.Fatalf("after End: %d writes, %q", raw.writes, raw.data)
	}
	if _, err := io.WriteString(c, "d"); err != nil {
		t.Fatal(err)
	}
	if raw.writes != 2 || string(raw.data) != "abbcccd" {
		t.Fatalf("outside a batch a write must go straight through: %d writes, %q", raw.writes, raw.data)
	}
}
