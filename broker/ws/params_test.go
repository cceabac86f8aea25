package ws_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestQueryParamsRefused: an unknown parameter, a repeated one, or a value
// outside a parameter's set is a 4xx naming the parameter, on every
// endpoint, and creates nothing (no stream, no subscription).
func TestQueryParamsRefused(t *testing.T) {
	srv := startNode(t, t.TempDir(), nil)
	const (
		cons = "/ws/v2/consumer/persistent/_mm/_system/pq/sub?"
		prod = "/ws/v2/producer/persistent/_mm/_system/pq?"
		read = "/ws/v2/reader/persistent/_mm/_system/pq?"
	)
	for _, tt := range []struct{ query, param string }{
		{cons + "subscriptionType=Bogus", "subscriptionType"},
		{cons + "subscriptionType=Key-Shared", "subscriptionType"},
		{cons + "subscriptonType=Shared", "subscriptonType"},
		{cons + "subscriptionType=Shared&subscriptionType=Exclusive", "subscriptionType"},
		{cons + "subscriptionInitialPosition=Middle", "subscriptionInitialPosition"},
		{cons + "receiverQueueSize=many", "receiverQueueSize"},
		{cons + "receiverQueueSize=0", "receiverQueueSize"},
		{cons + "receiverQueueSize=99999999999999999999", "receiverQueueSize"},
		{cons + "priorityLevel=-1", "priorityLevel"},
		{cons + "ackTimeoutMillis=1e3", "ackTimeoutMillis"},
		{cons + "negativeAckRedeliveryDelay=soon", "negativeAckRedeliveryDelay"},
		{cons + "maxRedeliverCount=x", "maxRedeliverCount"},
		{cons + "pullMode=maybe", "pullMode"},
		{cons + "consumerName=a%2Fb", "consumer"},
		{cons + "deadLetterTopic=..", "deadLetterTopic"},
		{cons + "subscriptionMode=NonDurable", "subscriptionMode"},
		{cons + "cryptoFailureAction=IGNORE", "cryptoFailureAction"},
		{cons + "protocol=carrier-pigeon", "protocol"},
		{cons + "global=perhaps", "global"},
		{cons + "messageId=earliest", "messageId"},
		{prod + "initialSequenceId=first", "initialSequenceId"},
		{prod + "batchingEnabled=yes-please", "batchingEnabled"},
		{prod + "compressionType=BROTLI", "compressionType"},
		{prod + "messageRoutingMode=CustomPartition", "messageRoutingMode"},
		{prod + "sendTimeoutMillis=-5", "sendTimeoutMillis"},
		{prod + "encryptionKeys=k", "encryptionKeys"},
		{prod + "subscriptionType=Shared", "subscriptionType"},
		{prod + "producerName=a&producerName=b", "producerName"},
		{read + "messageId=the-middle", "messageId"},
		{read + "readerName=a%2Fb", "readerName"},
		{read + "receiverQueueSize=-3", "receiverQueueSize"},
		{read + "subscriptionType=Shared", "subscriptionType"},
		{read + "pullMode=2", "pullMode"},
		{cons + "subscriptionType=Shared&x=%zz", "malformed"},
	} {
		_, status, body, err := tryDial(srv, tt.query)
		if err == nil || status < 400 || status >= 500 || !strings.Contains(body, tt.param) {
			t.Errorf("%s: status %d body %q err %v, want a 4xx naming %s", tt.query, status, strings.TrimSpace(body), err, tt.param)
		}
	}
	if code, body := httpDo(t, http.MethodGet, srv.URL()+"/_fabric/_system/_api/streams/pq"); code != http.StatusNotFound {
		t.Fatalf("refused handshakes created the stream: %d %s", code, body)
	}

	// Pulsar's own parameters with valid values are accepted; all spellings
	// of Key_Shared work.
	for _, q := range []string{
		cons + "subscriptionType=Key_Shared&subscriptionMode=Durable&cryptoFailureAction=FAIL",
		cons + "subscriptionType=KeyShared",
		cons + "subscriptionType=key_shared&consumerName=c2&priorityLevel=0",
		prod + "batchingEnabled=true&batchingMaxMessages=100&compressionType=LZ4&messageRoutingMode=RoundRobinPartition&hashingScheme=Murmur3_32Hash&sendTimeoutMillis=30000&maxPendingMessages=1000&batchingMaxPublishDelay=10",
		read + "readerName=r1&messageId=earliest&receiverQueueSize=10",
	} {
		dial(t, srv, q)
	}
	// A consumer of another type on the Key_Shared subscription: 409.
	_, status, body, _ := tryDial(srv, cons+"subscriptionType=Shared")
	if status != http.StatusConflict || !strings.Contains(body, "Key_Shared") {
		t.Fatalf("Shared consumer on a Key_Shared subscription: %d %q", status, body)
	}
}
