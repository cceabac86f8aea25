package ws

import (
	"fmt"
	"math"
	"net/http"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/broker/naming"
	"github.com/causeway/causeway/broker/wsbin"
	"github.com/causeway/causeway/broker/wsproto"
	"github.com/causeway/causeway/internal/queryparam"
)

// The query parameters of each endpoint. A handshake naming a parameter the
// endpoint does not know, giving one twice, or giving a value outside its
// parameter's set is refused with 400 naming it, before anything is created:
// a mistyped parameter must not silently become a different subscription.
//
// Text parameters are the ones the handlers parse themselves (with their
// own 400s: subscriptionType in any letter case, numbers within their
// bounds, names). The others are Pulsar's WebSocket parameters that steer
// only the client inside Pulsar's proxy (batching, compression, routing,
// timeouts, encryption failures): accepted with a value Pulsar accepts,
// without effect here. Message encryption (encryptionKeys) and
// non-durable subscriptions are not offered.
var (
	commonParams = []queryparam.Param{
		queryparam.Text("global"), // server.go
		queryparam.Text(wsbin.ProtocolParam),
		queryparam.OneOf("cryptoFailureAction", "FAIL", "DISCARD", "CONSUME"), // no message is encrypted here
	}
	endpointParams = map[wsproto.Kind]queryparam.Set{
		wsproto.Producer: queryparam.New(commonParams...).With(
			queryparam.Text("producerName"),
			queryparam.Text("initialSequenceId"),
			queryparam.Int("sendTimeoutMillis", 0, math.MaxInt32),
			queryparam.Bool("batchingEnabled"),
			queryparam.Int("batchingMaxMessages", 0, math.MaxInt32),
			queryparam.Int("batchingMaxPublishDelay", 0, math.MaxInt64),
			queryparam.Int("maxPendingMessages", 0, math.MaxInt32),
			queryparam.OneOf("messageRoutingMode", "SinglePartition", "RoundRobinPartition"),
			queryparam.OneOf("compressionType", "NONE", "LZ4", "ZLIB", "ZSTD", "SNAPPY"),
			queryparam.OneOf("hashingScheme", "JavaStringHash", "Murmur3_32Hash"),
		),
		wsproto.Consumer: queryparam.New(commonParams...).With(
			queryparam.Text("topics"), // /ws/v3/consumer (wsproto.ParsePath)
			queryparam.Text("subscriptionType"),
			queryparam.Text("subscriptionInitialPosition"),
			queryparam.Text("receiverQueueSize"),
			queryparam.Text("consumerName"),
			queryparam.Text("priorityLevel"),
			queryparam.Text("ackTimeoutMillis"),
			queryparam.Text("negativeAckRedeliveryDelay"),
			queryparam.Text("maxRedeliverCount"),
			queryparam.Text("deadLetterTopic"),
			queryparam.Text("pullMode"),
			queryparam.Only("subscriptionMode", "Durable", "subscriptions are durable; NonDurable is not supported"),
		),
		wsproto.Reader: queryparam.New(commonParams...).With(
			queryparam.Text("readerName"),
			queryparam.Text("receiverQueueSize"),
			queryparam.Text("messageId"),
			queryparam.Text("pullMode"),
		),
	}
)

// checkParams refuses unknown, repeated and invalid query parameters of an
// endpoint, and a query string that does not parse.
func checkParams(r *http.Request, kind wsproto.Kind) error {
	if err := endpointParams[kind].Check(r.URL.RawQuery); err != nil {
		return fmt.Errorf("%w: %w", broker.ErrBadRequest, err)
	}
	if v := r.URL.Query().Get("readerName"); v != "" && kind == wsproto.Reader {
		if err := naming.Validate("readerName", v); err != nil {
			return err
		}
	}
	return nil
}
