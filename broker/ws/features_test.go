package ws_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/causeway/causeway/broker/wsproto"
)

func TestReaderPositions(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	prod := dial(t, srv, producerPath("rdr"))
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, prod.publish(fmt.Sprint(i)).MessageID)
	}
	from := dial(t, srv, "/ws/v2/reader/persistent/_mm/_system/rdr?messageId="+ids[1])
	if p := unb64(t, from.receive().Payload); p != "2" {
		t.Fatalf("reader after id 1 got %q", p)
	}
	latest := dial(t, srv, "/ws/v2/reader/persistent/_mm/_system/rdr?messageId=latest")
	prod.publish("new")
	if p := unb64(t, latest.receive().Payload); p != "new" {
		t.Fatalf("latest reader got %q", p)
	}
	// Pull mode: nothing arrives until permits are granted.
	pull := dial(t, srv, "/ws/v2/reader/persistent/_mm/_system/rdr?messageId=earliest&pullMode=true")
	pull.send(`{"type":"permit","permitMessages":2}`)
	for _, want := range []string{"0", "1"} {
		if p := unb64(t, pull.receive().Payload); p != want {
			t.Fatalf("pull reader got %q want %q", p, want)
		}
	}
}

func TestMultiStreamConsumerAndCumulativeAck(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	pa := dial(t, srv, producerPath("ma"))
	pb := dial(t, srv, producerPath("mb"))
	pa.publish("a0")
	pb.publish("b0")
	c := dial(t, srv, "/ws/v3/consumer/multi?topics=persistent://_mm/_system/ma,persistent://_mm/_system/mb&subscriptionInitialPosition=Earliest")
	got := map[string]string{}
	for i := 0; i < 2; i++ {
		m := c.receive()
		got[m.Topic] = unb64(t, m.Payload)
		c.send(wsproto.ConsumerCommand{Type: wsproto.CmdCumulativeAck, MessageID: m.MessageID})
	}
	if got["persistent://_mm/_system/ma"] != "a0" || got["persistent://_mm/_system/mb"] != "b0" {
		t.Fatalf("multi-stream consumer got %v", got)
	}
}

func TestNonPersistentFanOut(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	c1 := dial(t, srv, "/ws/v2/consumer/non-persistent/_mm/_system/np/s1")
	c2 := dial(t, srv, "/ws/v2/consumer/non-persistent/_mm/_system/np/s2")
	prod := dial(t, srv, "/ws/v2/producer/non-persistent/_mm/_system/np")
	prod.publish("hello")
	for _, c := range []*client{c1, c2} {
		if p := unb64(t, c.receive().Payload); p != "hello" {
			t.Fatalf("non-persistent consumer got %q", p)
		}
	}
}

func TestStreamAdminOverHTTP(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	base := srv.URL() + "/_fabric/_system/_api/streams"
	if code, body := httpDo(t, http.MethodPost, base+"/orders?global=false"); code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, _ := httpDo(t, http.MethodPost, base+"/orders"); code != http.StatusConflict {
		t.Fatalf("create twice: %d", code)
	}
	if code, _ := httpDo(t, http.MethodPost, base+"/bad..name%2F"); code != http.StatusBadRequest {
		t.Fatalf("create invalid: %d", code)
	}
	prod := dial(t, srv, producerPath("orders"))
	prod.publish("o1")
	c := dial(t, srv, consumerPath("orders", "billing", "subscriptionInitialPosition=Earliest"))
	c.receive()

	code, body := httpDo(t, http.MethodGet, base+"/orders")
	var got struct {
		Result struct {
			Messages      uint64   `json:"messages"`
			Producers     []string `json:"producers"`
			Subscriptions map[string]struct {
				Backlog   uint64 `json:"backlog"`
				Consumers []any  `json:"consumers"`
			} `json:"subscriptions"`
		} `json:"result"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil {
		t.Fatalf("get: %d %s", code, body)
	}
	if got.Result.Messages != 1 || len(got.Result.Producers) != 1 || got.Result.Subscriptions["billing"].Backlog != 1 ||
		len(got.Result.Subscriptions["billing"].Consumers) != 1 {
		t.Fatalf("stream stats: %s", body)
	}
	if code, body := httpDo(t, http.MethodGet, base); code != http.StatusOK || !strings.Contains(body, `"orders"`) {
		t.Fatalf("list: %d %s", code, body)
	}
	if code, _ := httpDo(t, http.MethodDelete, base+"/orders"); code != http.StatusConflict {
		t.Fatalf("delete in use: %d", code)
	}
	if code, body := httpDo(t, http.MethodDelete, base+"/orders?force=true"); code != http.StatusOK {
		t.Fatalf("force delete: %d %s", code, body)
	}
	if code, _ := httpDo(t, http.MethodGet, base+"/orders"); code != http.StatusNotFound {
		t.Fatalf("get deleted: %d", code)
	}
	if code, body := httpDo(t, http.MethodGet, srv.URL()+"/_tenant/_mm/_fabric/_system/_api/streams"); code != http.StatusOK {
		t.Fatalf("tenant prefix: %d %s", code, body)
	}
	if code, body := httpDo(t, http.MethodGet, srv.URL()+"/metrics"); code != http.StatusOK || !strings.Contains(body, "causeway_messages_in_total") {
		t.Fatalf("metrics: %d", code)
	}
	if code, _ := httpDo(t, http.MethodGet, srv.URL()+"/health"); code != http.StatusOK {
		t.Fatalf("health: %d", code)
	}
}
