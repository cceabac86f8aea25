package clients

import (
	"time"

	"github.com/causeway/causeway/broker/wsproto"
)

// ProducerMessage is what a producer publishes.
type ProducerMessage struct {
	Payload    []byte
	Key        string
	Properties map[string]string
	EventTime  time.Time // zero: not set
	// SequenceID overrides the producer's own numbering. Later messages
	// without one continue after the highest id used so far.
	SequenceID *int64
}

// Message is a message received by a consumer or reader.
type Message struct {
	ID              wsproto.MessageID
	RawID           string // the id exactly as the server sent it; acks echo it
	Stream          string // full stream name, e.g. "persistent://_mm/_system/orders"
	Payload         []byte
	Key             string
	Properties      map[string]string
	PublishTime     time.Time
	EventTime       time.Time // zero when the producer set none
	RedeliveryCount int
}
