package collections

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestOpValidate(t *testing.T) {
	valid := set("us:2", "us:1 eu:4", 7, "a.b", `{"x":[1,{"y":null}]}`)
	tests := []struct {
		name   string
		mutate func(op *Op)
		ok     bool
	}{
		{"valid set", func(op *Op) {}, true},
		{"valid insert", func(op *Op) { op.Kind, op.Path, op.Value = KindInsert, nil, json.RawMessage(`{"a":1}`) }, true},
		{"valid increment", func(op *Op) { op.Kind, op.Value = KindIncrement, json.RawMessage(`-9223372036854775808`) }, true},
		{"valid unset", func(op *Op) { op.Kind, op.Value = KindUnset, nil }, true},
		{"valid delete", func(op *Op) { op.Kind, op.Path, op.Value = KindDelete, nil, nil }, true},
		{"valid key punctuation", func(op *Op) { op.Key = "a_b-c:d.e@f(g)h+i,j=k;l$m!n*o'p%q" }, true},
		{"empty attribute name", func(op *Op) { op.Path = []string{"a", ""} }, true},
		{"unknown kind", func(op *Op) { op.Kind = 9 }, false},
		{"zero kind", func(op *Op) { op.Kind = 0 }, false},
		{"empty collection", func(op *Op) { op.Collection = "" }, false},
		{"collection starting with a digit", func(op *Op) { op.Collection = "1c" }, false},
		{"collection with a slash", func(op *Op) { op.Collection = "a/b" }, false},
		{"empty key", func(op *Op) { op.Key = "" }, false},
		{"key with a slash", func(op *Op) { op.Key = "a/b" }, false},
		{"key too long", func(op *Op) { op.Key = strings.Repeat("k", maxKeyBytes+1) }, false},
		{"empty region", func(op *Op) { op.Dot.Region = "" }, false},
		{"region not UTF-8", func(op *Op) { op.Dot.Region = "\xff" }, false},
		{"zero seq", func(op *Op) { op.Dot.Seq = 0 }, false},
		{"context covers own dot", func(op *Op) { op.Context = parseCtx("us:2") }, false},
		{"context unsorted", func(op *Op) { op.Context = Vector{{"us", 1}, {"eu", 1}} }, false},
		{"context duplicate", func(op *Op) { op.Context = Vector{{"eu", 1}, {"eu", 2}} }, false},
		{"context zero entry", func(op *Op) { op.Context = Vector{{"eu", 0}} }, false},
		{"set without path", func(op *Op) { op.Path = nil }, false},
		{"path too deep", func(op *Op) { op.Path = make([]string, maxPathDepth+1) }, false},
		{"name too long", func(op *Op) { op.Path = []string{strings.Repeat("n", maxNameBytes+1)} }, false},
		{"name not UTF-8", func(op *Op) { op.Path = []string{"\xc3"} }, false},
		{"reserved name", func(op *Op) { op.Path = []string{"_key"} }, false},
		{"reserved name nested is fine", func(op *Op) { op.Path = []string{"a", "_rev"} }, true},
		{"set without value", func(op *Op) { op.Value = nil }, false},
		{"value not JSON", func(op *Op) { op.Value = json.RawMessage(`{a:1}`) }, false},
		{"value not compact", func(op *Op) { op.Value = json.RawMessage(`{"a": 1}`) }, false},
		{"value with trailing garbage", func(op *Op) { op.Value = json.RawMessage(`1 2`) }, false},
		{"value not UTF-8", func(op *Op) { op.Value = json.RawMessage("\"\xff\"") }, false},
		{"value with duplicate names", func(op *Op) { op.Value = json.RawMessage(`{"a":1,"a":2}`) }, false},
		{"value with duplicate escaped names", func(op *Op) { op.Value = json.RawMessage(`{"a":1,"\u0061":2}`) }, false},
		{"value with duplicate names in an array", func(op *Op) { op.Value = json.RawMessage(`[{"a":1,"a":2}]`) }, false},
		{"value nested too deep", func(op *Op) {
			op.Value = json.RawMessage(strings.Repeat("[", maxValueDepth+1) + strings.Repeat("]", maxValueDepth+1))
		}, false},
		{"value nested at the limit", func(op *Op) {
			op.Value = json.RawMessage(strings.Repeat("[", maxValueDepth) + strings.Repeat("]", maxValueDepth))
		}, true},
		{"insert with path", func(op *Op) { op.Kind = KindInsert; op.Value = json.RawMessage(`{}`) }, false},
		{"insert of a non-object", func(op *Op) { op.Kind, op.Path, op.Value = KindInsert, nil, json.RawMessage(`[1]`) }, false},
		{"insert with reserved name", func(op *Op) { op.Kind, op.Path, op.Value = KindReplace, nil, json.RawMessage(`{"_id":1}`) }, false},
		{"delete with value", func(op *Op) { op.Kind, op.Path = KindDelete, nil }, false},
		{"delete with expiry", func(op *Op) { op.Kind, op.Path, op.Value, op.ExpiresAt = KindDelete, nil, nil, 5 }, false},
		{"unset with value", func(op *Op) { op.Kind = KindUnset }, false},
		{"increment by a fraction", func(op *Op) { op.Kind, op.Value = KindIncrement, json.RawMessage(`1.5`) }, false},
		{"increment by an exponent", func(op *Op) { op.Kind, op.Value = KindIncrement, json.RawMessage(`1e3`) }, false},
		{"increment beyond int64", func(op *Op) { op.Kind, op.Value = KindIncrement, json.RawMessage(`9223372036854775808`) }, false},
		{"increment with plus sign", func(op *Op) { op.Kind, op.Value = KindIncrement, json.RawMessage(`+1`) }, false},
		{"increment with leading zero", func(op *Op) { op.Kind, op.Value = KindIncrement, json.RawMessage(`01`) }, false},
		{"increment by a string", func(op *Op) { op.Kind, op.Value = KindIncrement, json.RawMessage(`"1"`) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := valid
			op.Path = append([]string(nil), valid.Path...)
			tt.mutate(&op)
			err := op.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !tt.ok {
				if !errors.Is(err, ErrInvalidOp) {
					t.Fatalf("Validate = %v, want ErrInvalidOp", err)
				}
				d := NewDoc(op.Collection, op.Key)
				before := d.AppendBinary(nil)
				if _, err := d.Apply(&op); err == nil {
					t.Fatal("Apply accepted an invalid op")
				}
				if !bytes.Equal(before, d.AppendBinary(nil)) {
					t.Fatal("a rejected op changed the state")
				}
				if _, err := op.MarshalBinary(); err == nil {
					t.Fatal("MarshalBinary accepted an invalid op")
				}
			}
		})
	}
}

func TestApplyRejectsOpForAnotherDocument(t *testing.T) {
	d := NewDoc(testCollection, "other")
	op := insert("us:1", "", 1, `{"a":1}`)
	if _, err := d.Apply(&op); !errors.Is(err, ErrWrongDocument) {
		t.Fatalf("Apply = %v, want ErrWrongDocument", err)
	}
	if d.Exists() || len(d.Applied()) != 0 {
		t.Fatal("rejected op changed the state")
	}
}

// sampleOps covers every kind and field.
func sampleOps() []Op {
	withExpiry := set("eu:3", "eu:2 us:1", 1<<40, "a.b", `{"x":[1,{"y":null}],"s":"\u00e9\n"}`)
	withExpiry.ExpiresAt = 1_700_000_000_000
	return []Op{
		insert("us:1", "", 1, `{"a":1,"b":{"c":"d"}}`),
		replace("us:2", "us:1", 2, `{}`),
		del("ap-south:9", "us:2 eu:1"),
		set("us:3", "us:2", 3, "a", `"text"`),
		unset("us:4", "us:3", "a.b.c"),
		incr("eu:1", "us:4", "n", -42),
		withExpiry,
	}
}

func TestOpBinaryRoundTrip(t *testing.T) {
	for _, op := range sampleOps() {
		b, err := op.MarshalBinary()
		if err != nil {
			t.Fatalf("%s: MarshalBinary: %v", op.Dot, err)
		}
		got, err := DecodeOp(b)
		if err != nil {
			t.Fatalf("%s: DecodeOp: %v", op.Dot, err)
		}
		if !reflect.DeepEqual(got, op) {
			t.Fatalf("%s: round trip\n got %+v\nwant %+v", op.Dot, got, op)
		}
		// Every strict prefix and any trailing byte is rejected.
		for i := range b {
			if _, err := DecodeOp(b[:i]); !errors.Is(err, ErrCorruptOp) {
				t.Fatalf("%s: prefix of %d bytes: err %v, want ErrCorruptOp", op.Dot, i, err)
			}
		}
		if _, err := DecodeOp(append(b, 0)); !errors.Is(err, ErrCorruptOp) {
			t.Fatalf("%s: trailing byte accepted", op.Dot)
		}
	}
}

func TestDecodeOpRejects(t *testing.T) {
	good, err := sampleOps()[3].MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"version 2", append([]byte{2}, good[1:]...)},
		{"version 0", append([]byte{0}, good[1:]...)},
		{"unknown kind", append([]byte{1, 7}, good[2:]...)},
		{"non-minimal varint", append([]byte{1, byte(KindSet), 0x81, 0x00}, good[3:]...)},
		{"length past the end", []byte{1, byte(KindSet), 0x7f, 'c'}},
		{"varint overflow", append([]byte{1, byte(KindSet)}, bytes.Repeat([]byte{0xff}, 11)...)},
		{"oversize", make([]byte, maxOpBytes+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeOp(tt.b); !errors.Is(err, ErrCorruptOp) {
				t.Fatalf("DecodeOp = %v, want ErrCorruptOp", err)
			}
		})
	}
}

func TestOpJSONRoundTrip(t *testing.T) {
	for _, op := range sampleOps() {
		b, err := json.Marshal(op)
		if err != nil {
			t.Fatalf("%s: Marshal: %v", op.Dot, err)
		}
		var got Op
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: Unmarshal %s: %v", op.Dot, b, err)
		}
		if !reflect.DeepEqual(got, op) {
			t.Fatalf("%s: JSON round trip via %s\n got %+v\nwant %+v", op.Dot, b, got, op)
		}
	}
}

func TestOpJSONForm(t *testing.T) {
	in := `{"collection":"users","key":"alice","kind":"set",
		"dot":{"region":"us-east","seq":7},"context":{"us-east":6,"eu-west":3},
		"hlc":1700000000000,"path":["address","city"],"value": {"name": "Paris"}}`
	var op Op
	if err := json.Unmarshal([]byte(in), &op); err != nil {
		t.Fatal(err)
	}
	want := Op{
		Collection: "users", Key: "alice", Kind: KindSet, Dot: Dot{"us-east", 7},
		Context: Vector{{"eu-west", 3}, {"us-east", 6}}, HLC: 1700000000000,
		Path: []string{"address", "city"}, Value: json.RawMessage(`{"name":"Paris"}`),
	}
	if !reflect.DeepEqual(op, want) {
		t.Fatalf("got %+v\nwant %+v", op, want)
	}
	for _, bad := range []string{
		`{"collection":"c","key":"k","kind":"set","dot":{"region":"us","seq":1},"path":["a"],"value":1,"extra":1}`,
		`{"collection":"c","key":"k","kind":"bogus","dot":{"region":"us","seq":1},"path":["a"],"value":1}`,
		`{"collection":"c","key":"k","kind":"set","dot":{"region":"us","seq":1},"context":{"eu":0},"path":["a"],"value":1}`,
		`{"collection":"c","key":"k","kind":"set","dot":{"region":"us","seq":1},"path":["a"]}`,
		`{"collection":"c","key":"k","kind":"set","dot":{"region":"us","seq":1},"path":["a"],"value":1} {}`,
	} {
		if err := json.Unmarshal([]byte(bad), &op); err == nil {
			t.Fatalf("accepted %s", bad)
		}
	}
}

// FuzzDecodeOp: whatever the bytes, DecodeOp never panics; what it accepts
// re-encodes to the same bytes, survives the JSON form, and applies to a
// fresh document.
func FuzzDecodeOp(f *testing.F) {
	for _, op := range sampleOps() {
		b, err := op.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add([]byte{1, 4, 1, 'c', 1, 'k', 2, 'u', 's', 1, 0, 0, 0, 1, 1, 'a', 1, '1'})
	f.Fuzz(func(t *testing.T, b []byte) {
		op, err := DecodeOp(b)
		if err != nil {
			if !errors.Is(err, ErrCorruptOp) {
				t.Fatalf("error %v does not wrap ErrCorruptOp", err)
			}
			return
		}
		again, err := op.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded op does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, again)
		}
		j, err := json.Marshal(op)
		if err != nil {
			t.Fatalf("decoded op has no JSON form: %v", err)
		}
		var fromJSON Op
		if err := json.Unmarshal(j, &fromJSON); err != nil {
			t.Fatalf("JSON form %s does not decode: %v", j, err)
		}
		// encoding/json may re-escape <, > and & in strings: the value comes
		// back as equal JSON, everything else exactly.
		if len(op.Value) > 0 && !reflect.DeepEqual(decodeAny(t, fromJSON.Value), decodeAny(t, op.Value)) {
			t.Fatalf("JSON round trip changed the value: %s", j)
		}
		fromJSON.Value = op.Value
		if !reflect.DeepEqual(fromJSON, op) {
			t.Fatalf("JSON round trip differs: %s", j)
		}
		d := NewDoc(op.Collection, op.Key)
		if applied, err := d.Apply(&op); err != nil || !applied {
			t.Fatalf("decoded op does not apply: %v %v", applied, err)
		}
		d.AppendJSON(nil)
		d.Conflicts()
		back, err := DecodeDoc(d.AppendBinary(nil))
		if err != nil {
			t.Fatalf("state after the op does not decode: %v", err)
		}
		if !bytes.Equal(back.AppendBinary(nil), d.AppendBinary(nil)) {
			t.Fatal("state round trip differs")
		}
	})
}
