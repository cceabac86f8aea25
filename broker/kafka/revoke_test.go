package kafka_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	kgoscram "github.com/segmentio/kafka-go/sasl/scram"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/causeway/causeway/broker/auth"
)

// TestRevokedKeyClosesKafkaConnections: revoking an API key closes the
// Kafka connections logged in with it (SCRAM with the key, PLAIN with a
// token issued from it) before the revocation is answered; the key logs
// in no more; another key's connection goes on.
func TestRevokedKeyClosesKafkaConnections(t *testing.T) {
	srv, root := secureNode(t, nil)
	key, id := newKey(t, srv, nil, root, "_mm", "write:fabric/_system", "read:fabric/_system")
	other, _ := newKey(t, srv, nil, root, "_mm", "write:fabric/_system", "read:fabric/_system")
	_, out := httpDo(t, srv, nil, "POST", auth.TokenPath, key, auth.TokenRequest{ExpiresIn: "10m"})
	token := out["result"].(map[string]any)["token"].(string)
	addr := srv.KafkaAddr()
	ctx := testCtx(t)

	// kafka-go's connection, logged in with SCRAM-SHA-256 (id, key).
	mech, err := kgoscram.Mechanism(kgoscram.SHA256, id, key)
	if err != nil {
		t.Fatal(err)
	}
	dialer := &kafkago.Dialer{Timeout: testTimeout, SASLMechanism: mech}
	kc, err := dialer.DialLeader(ctx, "tcp", addr, "revoke", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	_ = kc.SetDeadline(time.Now().Add(testTimeout))
	if _, err := kc.WriteMessages(kafkago.Message{Value: []byte("before")}); err != nil {
		t.Fatalf("kafka-go write before the revocation: %v", err)
	}
	// franz-go, logged in with PLAIN and a token of the key; and another key.
	tokHook, otherHook := &throttleHook{}, &throttleHook{}
	byToken := saslClient(t, addr, token, tokHook)
	kept := saslClient(t, addr, other, otherHook)
	for _, cl := range []*kgo.Client{byToken, kept} {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "revoke", Value: []byte("before")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Auth.Sessions(id); n < 2 {
		t.Fatalf("%d Kafka connections of the key tracked, want at least 2", n)
	}

	if code, out := httpDo(t, srv, nil, "DELETE", auth.KeysPath+"/"+id, root, nil); code != http.StatusOK {
		t.Fatalf("revoke: %d %v", code, out)
	}
	if n := srv.Auth.Sessions(id); n != 0 {
		t.Fatalf("%d connections of the revoked key still tracked", n)
	}
	// The server closed kafka-go's connection: its next request fails
	// (it would succeed on a connection left open).
	_ = kc.SetDeadline(time.Now().Add(testTimeout))
	if _, err := kc.WriteMessages(kafkago.Message{Value: []byte("after")}); err == nil {
		t.Fatal("kafka-go wrote on a connection of a revoked key")
	}
	// franz-go loses its connections, and cannot log in again.
	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := byToken.Request(short, kmsg.NewPtrMetadataRequest()); err == nil {
		t.Fatal("franz-go was served with a token of a revoked key")
	} else if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("franz-go's request neither failed nor succeeded: %v", err)
	}
	if tokHook.disconnects.Load() == 0 {
		t.Fatal("franz-go's connection of a revoked key was not closed")
	}
	// The other key is untouched.
	if err := kept.ProduceSync(ctx, &kgo.Record{Topic: "revoke", Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatalf("the other key: %v", err)
	}
	if n := otherHook.disconnects.Load(); n != 0 {
		t.Fatalf("the other key's client lost %d connections", n)
	}
}
