package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/causeway/causeway/broker/auth"
)

// geoKeyPath is a request a key with read:fabric/_system may make on any
// node of either region: 401 means the key is refused, anything else that
// it authenticated.
const geoKeyPath = "/_fabric/_system/_api/streams"

// createKeyOn creates a key of the default tenant through base as the
// admin and returns its view (its text in Key).
func (c *regionCluster) createKeyOn(t *testing.T, base string, perms ...string) auth.KeyView {
	t.Helper()
	b := c.callOK(t, http.StatusCreated, http.MethodPost, base, auth.KeysPath, auth.KeyRequest{Name: "geo", Permissions: perms})
	var out struct{ Result auth.KeyView }
	if err := json.Unmarshal(b, &out); err != nil || out.Result.Key == "" {
		t.Fatalf("created key: %s (%v)", b, err)
	}
	return out.Result
}

// awaitKey waits until every URL of urls accepts cred (want) or refuses
// it (401), and returns how long it took.
func awaitKey(t *testing.T, what string, urls []string, cred string, want bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		done, last := true, ""
		for _, u := range urls {
			code, body := get(t, u, geoKeyPath, cred)
			if (code != http.StatusUnauthorized) != want || code == 0 {
				done, last = false, u+": "+http.StatusText(code)+" "+string(body)
				break
			}
		}
		if done {
			return time.Since(start)
		}
		if time.Since(start) > regionWait {
			t.Fatalf("%s: after %v %s", what, regionWait, last)
		}
		time.Sleep(20 * time.Millisecond) // polling remote nodes, bounded by regionWait
	}
}

// TestRegionGeoKeysAreFabricWide: us-east is three nodes, eu-west one,
// one fabric. A key created through a us-east node that does not run the
// replication is accepted by every us-east node and by eu-west; a key
// created in eu-west by every us-east node; a key revoked through one
// us-east node is refused by every node of both regions and its WebSocket
// producer on another us-east node is closed; a key revoked in eu-west is
// refused by every us-east node. Then the node running us-east's
// replication is stopped: a key created after the failover reaches every
// node left and eu-west, and the earlier keys keep their state.
func TestRegionGeoKeysAreFabricWide(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four nodes in two regions")
	}
	c, euSrv := startGeoFabric(t)
	eu := euSrv.URL()
	runner := c.geoRunner()
	var others []*regionNode // the us-east nodes that do not run the replication
	for _, n := range c.nodes {
		if n != runner {
			others = append(others, n)
		}
	}
	var us []string
	for _, n := range c.nodes {
		us = append(us, n.url)
	}
	all := append([]string{eu}, us...)
	perms := []string{"read:fabric/_system", "write:fabric/_system"}

	// Created through a node that does not run the replication.
	k1 := c.createKeyOn(t, others[0].url, perms...)
	if k1.Origin != "us-east" {
		t.Fatalf("a key created in us-east has origin %q", k1.Origin)
	}
	if code, body := get(t, others[0].url, geoKeyPath, k1.Key); code == http.StatusUnauthorized {
		t.Fatalf("the creating node refuses the key it answered: %s", body)
	}
	took := awaitKey(t, "the us-east key on every node of both regions", all, k1.Key, true)
	t.Logf("a key created through a us-east node not running the replication was accepted everywhere after %v", took)

	// Created in eu-west.
	k2 := c.createKeyOn(t, eu, perms...)
	if k2.Origin != "eu-west" {
		t.Fatalf("a key created in eu-west has origin %q", k2.Origin)
	}
	took = awaitKey(t, "the eu-west key on every us-east node", us, k2.Key, true)
	t.Logf("a key created in eu-west was accepted by every us-east node after %v", took)

	// A producer of k2 on one us-east node; k2 revoked through another.
	holder, revoker := others[0], others[1]
	conn, status, err := dialProducer(t, holder, k2.Key)
	for deadline := time.Now().Add(regionWait); err != nil && status == http.StatusServiceUnavailable && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond) // the stream's leader settling: retried as a client does
		conn, status, err = dialProducer(t, holder, k2.Key)
	}
	if err != nil {
		t.Fatalf("producer with the eu-west key on a us-east node: %v (%d)", err, status)
	}
	publish(t, conn, "before the revocation")
	c.callOK(t, http.StatusOK, http.MethodDelete, revoker.url, auth.KeysPath+"/"+k2.ID, nil)
	if code, _ := get(t, revoker.url, geoKeyPath, k2.Key); code != http.StatusUnauthorized {
		t.Fatalf("the revoking node accepts the key it revoked: %d", code)
	}
	took = awaitKey(t, "the key revoked in us-east refused by every node of both regions", all, k2.Key, false)
	t.Logf("a key revoked through a us-east node was refused everywhere after %v", took)
	_ = conn.SetReadDeadline(time.Now().Add(revocationBound))
	if _, _, err := conn.ReadMessage(); err == nil {
		t.Fatal("the producer of the revoked key got a message")
	} else if !websocket.IsCloseError(err, websocket.ClosePolicyViolation, websocket.CloseNormalClosure, websocket.CloseGoingAway) &&
		!strings.Contains(err.Error(), "close") {
		t.Fatalf("the producer of the revoked key: %v, want its connection closed", err)
	}

	// k1 revoked in eu-west.
	c.callOK(t, http.StatusOK, http.MethodDelete, eu, auth.KeysPath+"/"+k1.ID, nil)
	took = awaitKey(t, "the key revoked in eu-west refused by every us-east node", us, k1.Key, false)
	t.Logf("a key revoked in eu-west was refused by every us-east node after %v", took)

	// Stop the runner: a key created after the failover reaches every node
	// left and eu-west.
	k3 := c.createKeyOn(t, others[1].url, perms...)
	awaitKey(t, "a third key everywhere", all, k3.Key, true)
	stopped := time.Now()
	runner.stop()
	var left []string
	for _, n := range others {
		left = append(left, n.url)
	}
	for c.geoRunner() == nil {
		if time.Since(stopped) > regionWait {
			t.Fatal("no us-east node took the replication over")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("replication runs on another node %v after the stop", time.Since(stopped))
	k4 := c.createKeyOn(t, others[0].url, perms...)
	answered := time.Since(stopped)
	took = awaitKey(t, "a key created after the failover on every node left and eu-west", append([]string{eu}, left...), k4.Key, true)
	t.Logf("a key created after the failover (answered %v after the stop) was accepted everywhere %v later", answered, took)
	awaitKey(t, "the keys created before the failover", append([]string{eu}, left...), k3.Key, true)
	awaitKey(t, "the keys revoked before the failover", append([]string{eu}, left...), k2.Key, false)
	awaitKey(t, "the keys revoked before the failover", append([]string{eu}, left...), k1.Key, false)
}
