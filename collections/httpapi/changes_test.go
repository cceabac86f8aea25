package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

const feedPath = "/ws/v2/consumer/persistent/_mm/_system/_changes.users/"

func TestChangeFeedOverWebSocket(t *testing.T) {
	n := startNode(t)
	n.createCollection("users", nil)
	// One subscription of each type, attached before the writes (from now).
	feeds := map[string]*wsClient{}
	for _, typ := range []string{"Exclusive", "Shared", "Failover"} {
		feeds[typ] = n.dial(feedPath + "sub-" + typ + "?subscriptionType=" + typ)
	}
	revA := n.do("POST", sys+"document/users", map[string]any{"_key": "a", "n": 1}).must(t, http.StatusCreated).str("_rev")
	revA2 := n.do("PATCH", sys+"document/users/a", map[string]any{"n": map[string]any{"$inc": 2}, "m": "x"}).must(t, http.StatusCreated).str("_rev")
	n.do("POST", sys+"document/users", []any{map[string]any{"_key": "b"}, map[string]any{"_key": "c"}}).must(t, http.StatusCreated)
	n.do("DELETE", sys+"document/users/a", nil).must(t, http.StatusOK)
	applyRemote(t, n, `{"collection":"users","key":"d","kind":"insert","dot":{"region":"eu-west","seq":1},"hlc":5,"value":{"from":"eu"}}`)

	type want struct {
		key, op string
		deleted bool
		region  string
	}
	wants := []want{{"a", "insert", false, "us-east"}, {"a", "update", false, "us-east"}, {"b", "insert", false, "us-east"},
		{"c", "insert", false, "us-east"}, {"a", "delete", true, "us-east"}, {"d", "insert", false, "eu-west"}}
	var ids []string
	for typ, feed := range feeds {
		for i, w := range wants {
			ch, m := feed.change()
			if ch.Key != w.key || ch.Op != w.op || ch.Deleted != w.deleted || ch.Region != w.region || ch.ID != "users/"+w.key || m.Key != w.key || m.Properties["op"] != w.op {
				t.Fatalf("%s change %d: got %+v (key %q, properties %v), want %+v", typ, i, ch, m.Key, m.Properties, w)
			}
			if typ == "Exclusive" {
				ids = append(ids, m.MessageID)
			}
			switch i {
			case 0:
				if ch.Rev != revA || string(ch.Doc) != `{"_key":"a","_id":"users/a","_rev":"`+revA+`","n":1}` {
					t.Fatalf("insert change: %+v %s", ch, ch.Doc)
				}
			case 1:
				var d map[string]any
				if err := json.Unmarshal(ch.Doc, &d); err != nil || ch.Rev != revA2 || d["n"] != float64(3) || d["m"] != "x" {
					t.Fatalf("update change: %+v %s", ch, ch.Doc)
				}
			case 4:
				if string(ch.Doc) != "null" {
					t.Fatalf("delete change carries %s", ch.Doc)
				}
			}
		}
	}
	// Readers start from the beginning or after a position (Pulsar's
	// reader semantics).
	rd := n.dial("/ws/v2/reader/persistent/_mm/_system/_changes.users?messageId=earliest")
	for i, w := range wants {
		if ch, _ := rd.change(); ch.Key != w.key || ch.Op != w.op {
			t.Fatalf("reader change %d: %+v", i, ch)
		}
	}
	from := n.dial("/ws/v2/reader/persistent/_mm/_system/_changes.users?messageId=" + url.QueryEscape(ids[3]))
	for _, w := range wants[4:] {
		if ch, _ := from.change(); ch.Key != w.key || ch.Op != w.op {
			t.Fatalf("reader from a position: %+v, want %+v", ch, w)
		}
	}
	// A consumer from the earliest position of a new subscription sees
	// everything too.
	early := n.dial(feedPath + "late?subscriptionType=Shared&subscriptionInitialPosition=Earliest")
	if ch, _ := early.change(); ch.Key != "a" || ch.Op != "insert" {
		t.Fatalf("earliest: %+v", ch)
	}
}
