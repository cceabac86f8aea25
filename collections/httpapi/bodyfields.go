package httpapi

import (
	"fmt"
	"slices"
	"strings"

	"github.com/causeway/causeway/collections/service"
)

// The fields a body that changes data may hold (collection and index
// creation): each is understood, or accepted because it cannot change
// what the node does (the value it takes says so), and any other field,
// or a value the node would not honour, is refused with 400 naming it,
// never ignored. Pure.

// fieldRule checks one field's value (nil: any value).
type fieldRule func(v any) error

// fieldRules is what one body takes.
type fieldRules map[string]fieldRule

// checkFields refuses a field of obj that rules does not take, or whose
// value its rule refuses (in name order, so the answer is stable).
func checkFields(what string, obj map[string]any, rules fieldRules) error {
	names := make([]string, 0, len(obj))
	for name := range obj {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		rule, ok := rules[name]
		if !ok {
			known := make([]string, 0, len(rules))
			for k := range rules {
				known = append(known, k)
			}
			slices.Sort(known)
			return fmt.Errorf("%w: %s: unknown attribute %q (it takes %s)", service.ErrBadRequest, what, name, strings.Join(known, ", "))
		}
		if rule == nil {
			continue
		}
		if err := rule(obj[name]); err != nil {
			return fmt.Errorf("%w: %s: %s: %w", service.ErrBadRequest, what, name, err)
		}
	}
	return nil
}

// anyBool takes a boolean (or null).
func anyBool(v any) error {
	if _, ok := v.(bool); ok || v == nil {
		return nil
	}
	return fmt.Errorf("want a boolean")
}

// anyNumber takes a number (or null).
func anyNumber(v any) error {
	if v == nil {
		return nil
	}
	if _, err := integer(v, "value"); err != nil {
		return fmt.Errorf("want a number")
	}
	return nil
}

// only takes null or one of values (booleans or strings).
func only(why string, values ...any) fieldRule {
	return func(v any) error {
		if v == nil {
			return nil
		}
		for _, want := range values {
			if v == want {
				return nil
			}
		}
		return fmt.Errorf("%v is not supported (%s)", v, why)
	}
}

// emptyOnly takes null, "", false, 0, [] or {}: an option that is off.
func emptyOnly(why string) fieldRule {
	return func(v any) error {
		switch x := v.(type) {
		case nil:
			return nil
		case bool:
			if !x {
				return nil
			}
		case string:
			if x == "" {
				return nil
			}
		case []any:
			if len(x) == 0 {
				return nil
			}
		case map[string]any:
			if len(x) == 0 {
				return nil
			}
		default:
			if n, err := integer(v, "value"); err == nil && n == 0 {
				return nil
			}
		}
		return fmt.Errorf("%v is not supported (%s)", v, why)
	}
}

// stringList takes an array of strings (or null).
func stringList(v any) error {
	if v == nil {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		return fmt.Errorf("want an array of strings")
	}
	for _, e := range arr {
		if _, ok := e.(string); !ok {
			return fmt.Errorf("want an array of strings")
		}
	}
	return nil
}

const (
	whyMoot       = "moot here"
	whyNoSharding = "a collection is whole in every region; sharding options are moot, other shard keys are not supported"
)

// collectionFields are the attributes of a collection creation: the ones
// the node reads (name, type, keyValue, ttl, isSpot/spot, homeRegion for
// SPOT) and ArangoDB's and Macrometa's options, accepted where they are
// moot here (storage, sharding and replication settings: every region
// holds the whole collection) and refused where they would ask for
// something the node does not do (a schema, computed values, another key
// generator, smart graphs, local collections).
var collectionFields = fieldRules{
	"name": nil, "type": nil, "keyValue": nil, "ttl": nil, "isSpot": nil, "spot": nil, "homeRegion": nil,
	"waitForSync": anyBool, "cacheEnabled": anyBool, "doCompact": anyBool, "syncByRevision": anyBool,
	"isSystem": anyBool, "enableShards": anyBool, "stream": only("a collection always has its change feed", true),
	"journalSize": anyNumber, "indexBuckets": anyNumber, "numberOfShards": anyNumber,
	"replicationFactor": func(v any) error {
		if v == "satellite" {
			return nil
		}
		return anyNumber(v)
	},
	"writeConcern": anyNumber, "minReplicationFactor": anyNumber,
	"shardingStrategy": nil,
	"shardKeys": func(v any) error {
		if arr, ok := v.([]any); v == nil || ok && len(arr) == 1 && arr[0] == "_key" {
			return nil
		}
		return fmt.Errorf("%v is not supported (%s)", v, whyNoSharding)
	},
	"distributeShardsLike":  emptyOnly(whyNoSharding),
	"isVolatile":            emptyOnly("collections are durable"),
	"isLocal":               emptyOnly("every collection is global: local collections are not supported"),
	"schema":                emptyOnly("document schemas are not enforced"),
	"computedValues":        emptyOnly("computed values are not supported"),
	"isSmart":               emptyOnly("smart graphs are not supported"),
	"isDisjoint":            emptyOnly("smart graphs are not supported"),
	"smartGraphAttribute":   emptyOnly("smart graphs are not supported"),
	"smartJoinAttribute":    emptyOnly("smart joins are not supported"),
	"internalValidatorType": emptyOnly(whyMoot),
	"keyOptions": func(v any) error {
		if v == nil {
			return nil
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("want an object")
		}
		return checkFields("keyOptions", obj, fieldRules{
			"type":          only("generated keys are {counter}-{region}, ArangoDB's traditional generator is the closest", "traditional"),
			"allowUserKeys": only("user keys are always allowed", true),
			"increment":     anyNumber,
			"offset":        anyNumber,
		})
	},
}

// indexFields are the attributes of an index creation: the ones the node
// reads (type, fields, name, unique) and ArangoDB's options that cannot
// change a query's rows here (an index narrows a scan and never changes
// the rows; documents without the attribute are never in it).
var indexFields = fieldRules{
	"type": nil, "fields": nil, "name": nil, "unique": nil,
	"sparse": anyBool, "deduplicate": anyBool, "estimates": anyBool, "inBackground": anyBool,
	"cacheEnabled": anyBool, "storedValues": stringList,
}

// kvCollectionFields are the attributes of a key/value collection's
// creation (Macrometa's): ttl is read; stream, enableShards, expiration
// and waitForSync are moot (a collection always has its change feed, is
// whole in every region, and expires entries that carry an expiry).
var kvCollectionFields = fieldRules{
	"ttl": nil, "stream": anyBool, "enableShards": anyBool, "expiration": anyBool, "waitForSync": anyBool,
}
