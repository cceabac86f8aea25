package region

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Kind is what a command does.
type Kind uint8

// The commands of the region's metadata log.
const (
	// KindRegisterNode: a node joins, restarts (same incarnation) or comes
	// back with an empty disk (new incarnation). Member, Addrs.
	KindRegisterNode Kind = iota + 1
	// KindFenceNode: the controller saw no heartbeat of Member for a
	// session: its units get new leaders. Member.
	KindFenceNode
	// KindUnfenceNode: Member's heartbeats are back. Member.
	KindUnfenceNode
	// KindDrainNode: an operator asks to empty Member.Node before removing
	// it. Member.Node.
	KindDrainNode
	// KindRemoveNode: the node leaves the region; refused while it holds
	// a replica. Member.Node.
	KindRemoveNode
	// KindCreateUnit: Unit with Factor, on Replicas (the first leads), in
	// co-location Group if not empty (group.go).
	KindCreateUnit
	// KindDeleteUnit: Unit is gone.
	KindDeleteUnit
	// KindAlterInSync: Unit's leader Member, at Epoch, sets InSync
	// (from the in-sync set at Version).
	KindAlterInSync
	// KindReassign: the controller, at Unit's Epoch, sets its Replicas
	// (and Factor, if not 0).
	KindReassign
	// KindHeartbeat: Member is alive and reaches the Raft majority. It
	// changes no state: the controller, on the Raft leader, watches
	// heartbeats go by (a node that cannot commit one gets fenced).
	KindHeartbeat
	// KindPutKV: the region's key-value map holds Value under Key (kv.go).
	// Refused with ErrKVFull when the map is at its bounds.
	KindPutKV
	// KindDeleteKV: Key leaves the key-value map (a missing key is no
	// error).
	KindDeleteKV
	// KindDeletePrefix: every key that begins with Key leaves the map.
	KindDeletePrefix
	kindEnd
)

var kindNames = [...]string{
	KindRegisterNode: "register-node", KindFenceNode: "fence-node", KindUnfenceNode: "unfence-node",
	KindDrainNode: "drain-node", KindRemoveNode: "remove-node", KindCreateUnit: "create-unit",
	KindDeleteUnit: "delete-unit", KindAlterInSync: "alter-in-sync", KindReassign: "reassign",
	KindHeartbeat: "heartbeat", KindPutKV: "put-kv", KindDeleteKV: "delete-kv", KindDeletePrefix: "delete-prefix",
}

func (k Kind) String() string {
	if k > 0 && k < kindEnd {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Command is one entry of the region's metadata log.
type Command struct {
	Kind     Kind     `json:"kind"`
	Member   Member   `json:"member,omitzero"`
	Addrs    Addrs    `json:"addrs,omitzero"`
	Unit     UnitID   `json:"unit,omitempty"`
	Epoch    uint64   `json:"epoch,omitempty"`
	Factor   int      `json:"factor,omitempty"`
	Replicas []NodeID `json:"replicas,omitempty"`
	InSync   []Member `json:"inSync,omitempty"`
	// Info describes a unit at its creation (KindCreateUnit), for the
	// layer that owns it: a stream's description, for example.
	Info string `json:"info,omitempty"`
	// Version is the unit's InSyncVersion a KindAlterInSync changes from.
	Version uint64 `json:"version,omitempty"`
	// RaftReplica is the node's replica id in the metadata group in this
	// life (KindRegisterNode), so stale ones can be removed.
	RaftReplica uint64 `json:"raftReplica,omitempty"`
	// Key is the key of KindPutKV and KindDeleteKV, the prefix of
	// KindDeletePrefix; Value is what KindPutKV stores.
	Key   string `json:"key,omitempty"`
	Value string `json:"value,omitempty"`
	// Group is the co-location group a unit joins at its creation
	// (KindCreateUnit only; empty: none).
	Group string `json:"group,omitempty"`
}

// Bounds on a command: the metadata log takes proposals from other nodes,
// so everything in it is checked before it is applied.
const (
	MaxUnitIDBytes   = 1024
	MaxGroupBytes    = 1024
	MaxInfoBytes     = 4 << 10
	MaxAddrBytes     = 256
	MaxReplicas      = 16
	MaxFactor        = 7
	MaxCommandBytes  = 16 << 10
	maxNodeIDForJSON = 1<<53 - 1 // node ids survive a round trip through JSON numbers
)

// Validate checks the command's own fields (not the state it meets).
func (c Command) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalid, c.Kind, fmt.Sprintf(format, args...))
	}
	needNode := func() error {
		if c.Member.Node == 0 || c.Member.Node > maxNodeIDForJSON {
			return bad("node id %d out of range", c.Member.Node)
		}
		return nil
	}
	needUnit := func() error {
		if c.Unit == "" || len(c.Unit) > MaxUnitIDBytes || strings.ContainsAny(string(c.Unit), "\x00\n") {
			return bad("unit id must be 1-%d bytes without NUL or newline", MaxUnitIDBytes)
		}
		return nil
	}
	if (c.Key != "" || c.Value != "") && c.Kind != KindPutKV && c.Kind != KindDeleteKV && c.Kind != KindDeletePrefix {
		return bad("a key or value on a command that is not a key-value one")
	}
	if c.Group != "" && c.Kind != KindCreateUnit {
		return bad("a group on a command that does not create a unit")
	}
	switch c.Kind {
	case KindRegisterNode:
		if err := needNode(); err != nil {
			return err
		}
		if c.Member.Incarnation == 0 {
			return bad("incarnation 0")
		}
		for _, a := range []string{c.Addrs.Raft, c.Addrs.Data, c.Addrs.HTTP, c.Addrs.Kafka} {
			if len(a) > MaxAddrBytes {
				return bad("address longer than %d bytes", MaxAddrBytes)
			}
		}
		if c.Addrs.Raft == "" || c.Addrs.Data == "" || c.Addrs.HTTP == "" {
			return bad("raft, data and http addresses are required")
		}
	case KindFenceNode, KindUnfenceNode, KindDrainNode, KindRemoveNode, KindHeartbeat:
		return needNode()
	case KindCreateUnit:
		if err := needUnit(); err != nil {
			return err
		}
		if err := validGroup(c.Group); err != nil {
			return bad("%v", err)
		}
		// A unit joining a group takes the group's replica list, which is
		// longer than the factor while the group is being moved.
		if c.Factor < 1 || c.Factor > MaxFactor || len(c.Replicas) < c.Factor ||
			(len(c.Replicas) > c.Factor && c.Group == "") {
			return bad("factor %d with %d replicas", c.Factor, len(c.Replicas))
		}
		if len(c.Info) > MaxInfoBytes {
			return bad("info of %d bytes (at most %d)", len(c.Info), MaxInfoBytes)
		}
		return distinctNodes(c.Replicas, bad)
	case KindDeleteUnit:
		return needUnit()
	case KindAlterInSync:
		if err := needUnit(); err != nil {
			return err
		}
		if err := needNode(); err != nil {
			return err
		}
		if c.Epoch == 0 || len(c.InSync) == 0 || len(c.InSync) > MaxReplicas {
			return bad("epoch %d with %d in-sync replicas", c.Epoch, len(c.InSync))
		}
		ids := make([]NodeID, len(c.InSync))
		for i, m := range c.InSync {
			ids[i] = m.Node
		}
		return distinctNodes(ids, bad)
	case KindReassign:
		if err := needUnit(); err != nil {
			return err
		}
		if c.Epoch == 0 || len(c.Replicas) == 0 || len(c.Replicas) > MaxReplicas || c.Factor < 0 || c.Factor > MaxFactor {
			return bad("epoch %d, %d replicas, factor %d", c.Epoch, len(c.Replicas), c.Factor)
		}
		return distinctNodes(c.Replicas, bad)
	case KindPutKV, KindDeleteKV, KindDeletePrefix:
		return c.validateKV(bad)
	default:
		return fmt.Errorf("%w: unknown kind %d", ErrInvalid, c.Kind)
	}
	return nil
}

func distinctNodes(ids []NodeID, bad func(string, ...any) error) error {
	if len(ids) > MaxReplicas {
		return bad("%d nodes (at most %d)", len(ids), MaxReplicas)
	}
	for i, id := range ids {
		if id == 0 || id > maxNodeIDForJSON {
			return bad("node id %d out of range", id)
		}
		if slices.Contains(ids[:i], id) {
			return bad("node %d twice", id)
		}
	}
	return nil
}

// Encode returns the command as a log entry.
func (c Command) Encode() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, c.Kind, err)
	}
	if len(b) > MaxCommandBytes {
		// Every replica would refuse it at decoding: say so before proposing.
		return nil, fmt.Errorf("%w: %s: %d bytes encoded (at most %d)", ErrInvalid, c.Kind, len(b), MaxCommandBytes)
	}
	return b, nil
}

// DecodeCommand parses and validates a log entry or a proposal from another
// node. Unknown fields, trailing data and oversize entries are refused.
func DecodeCommand(b []byte) (Command, error) {
	var c Command
	if len(b) > MaxCommandBytes {
		return c, fmt.Errorf("%w: %d bytes (at most %d)", ErrInvalid, len(b), MaxCommandBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Command{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if dec.More() {
		return Command{}, fmt.Errorf("%w: trailing data", ErrInvalid)
	}
	if err := c.Validate(); err != nil {
		return Command{}, err
	}
	return c, nil
}
