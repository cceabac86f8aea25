package broker

import "strings"

// Properties the node's front ends keep beside a message's user
// properties. They travel with the message (segment logs, replication)
// like any property, and front ends that show properties leave them out.

// KafkaHeadersProperty holds a Kafka record's headers as Kafka defines them,
// an ordered list with repeated keys and null values (broker/kafka,
// headers.go), when the property map alone cannot say them: the map keeps
// the last value of each key, for every other front end.
const KafkaHeadersProperty = "__kafka_headers"

// internalPropertyPrefix starts every internal property's name.
const internalPropertyPrefix = "__kafka_"

// InternalProperty reports whether a property is one the node keeps for a
// front end (not shown as a user property).
func InternalProperty(name string) bool { return strings.HasPrefix(name, internalPropertyPrefix) }

// UserProperties returns props without internal properties (props itself
// when it has none).
func UserProperties(props map[string]string) map[string]string {
	internal := false
	for k := range props {
		if InternalProperty(k) {
			internal = true
			break
		}
	}
	if !internal {
		return props
	}
	out := make(map[string]string, len(props))
	for k, v := range props {
		if !InternalProperty(k) {
			out[k] = v
		}
	}
	return out
}
