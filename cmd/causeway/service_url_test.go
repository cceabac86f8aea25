package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// deadURL is the base URL of a node that is down (connections refused).
func deadURL() string {
	s := httptest.NewServer(http.NotFoundHandler())
	s.Close()
	return s.URL
}

// TestCLIServiceURLs: produce and consume take a region's nodes in --url,
// separated by commas, and use the first that answers; a malformed list
// is a usage error.
func TestCLIServiceURLs(t *testing.T) {
	f := newCLIFake(t)
	var stdout, stderr strings.Builder
	if code := runProduce([]string{"--url", deadURL() + "," + f.srv.URL, "--stream", "s"}, strings.NewReader("one\ntwo\n"), &stdout, &stderr); code != 0 {
		t.Fatalf("produce: exit %d, stderr:\n%s", code, stderr.String())
	}
	f.mu.Lock()
	n := len(f.published)
	f.mu.Unlock()
	if n != 2 {
		t.Fatalf("published %d messages, want 2", n)
	}

	c := newCLIFake(t)
	c.push = []string{"a", "b"}
	stdout.Reset()
	stderr.Reset()
	host := strings.TrimPrefix(c.srv.URL, "http://")
	if code := runConsume([]string{"--url", deadURL() + "," + host, "--stream", "s", "--subscription", "sub", "--count", "2"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("consume: exit %d, stderr:\n%s", code, stderr.String())
	}
	if stdout.String() != "a\nb\n" {
		t.Fatalf("consumed %q", stdout.String())
	}

	for _, url := range []string{"http://a:1,,http://b:2", "http://a:1,http://a:1", "a:1,http://b:2"} {
		stderr.Reset()
		if code := runProduce([]string{"--url", url, "--stream", "s"}, strings.NewReader(""), &stdout, &stderr); code != 2 {
			t.Errorf("produce --url %q: exit %d, want 2; stderr %s", url, code, stderr.String())
		}
		stderr.Reset()
		if code := runConsume([]string{"--url", url, "--stream", "s", "--subscription", "sub"}, nil, &stdout, &stderr); code != 2 {
			t.Errorf("consume --url %q: exit %d, want 2; stderr %s", url, code, stderr.String())
		}
		stderr.Reset()
		if code := runStatus([]string{"--url", url}, &stdout, &stderr); code != 2 {
			t.Errorf("status --url %q: exit %d, want 2; stderr %s", url, code, stderr.String())
		}
	}
}

// TestStatusAsksARegionsNodesInTurn: a --url listing a region's nodes
// asks them in turn; a node that is down is passed over, and only when
// none answers is it an error.
func TestStatusAsksARegionsNodesInTurn(t *testing.T) {
	single := httptest.NewServer(http.NotFoundHandler()) // a node without geo-replication or region group
	defer single.Close()
	var stdout, stderr strings.Builder
	if code := runStatus([]string{"--url", deadURL() + "," + single.URL}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), single.URL+": "+errNoReplication.Error()) {
		t.Fatalf("stdout:\n%s", stdout.String())
	}
	stdout.Reset()
	stderr.Reset()
	dead := deadURL()
	if code := runStatus([]string{"--url", dead + "," + deadURL()}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), dead) {
		t.Fatalf("no node answers: exit %d, stderr:\n%s", code, stderr.String())
	}
}
