package ship

import (
	"errors"
	"reflect"
	"testing"

	"github.com/causeway/causeway/broker/segment"
	"github.com/causeway/causeway/region"
)

func sampleResponse() Response {
	recs := []segment.Record{rec("p", 0), rec("p", 1), rec("q", 0)}
	recs[1].Properties = map[string]string{"k": "v"}
	recs[2].Meta = []byte{1, 2}
	return Response{
		FetchResponse: region.FetchResponse{Unit: "stream:t/f/s", Epoch: 4, Offset: 10, LastEpoch: 2, HighWatermark: 9,
			Entries: []region.Entry{{Offset: 10, Epoch: 2}, {Offset: 11, Epoch: 4}, {Offset: 12, Epoch: 4}}},
		Records: recs,
	}
}

func TestCodecRoundTrip(t *testing.T) {
	req := Request{FetchRequest: region.FetchRequest{Unit: "stream:t/f/s", From: member(2), Epoch: 4, Offset: 10, LastEpoch: 2}, MaxWaitMillis: 500}
	got, err := DecodeRequest(EncodeRequest(req))
	if err != nil || !reflect.DeepEqual(got, req) {
		t.Fatalf("request %+v, %v", got, err)
	}
	resp := sampleResponse()
	gotResp, err := DecodeResponse(EncodeResponse(resp))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotResp.FetchResponse, resp.FetchResponse) || len(gotResp.Records) != 3 {
		t.Fatalf("response %+v", gotResp.FetchResponse)
	}
	for i, r := range gotResp.Records {
		want := resp.Records[i]
		want.Offset = resp.Entries[i].Offset
		if !reflect.DeepEqual(r, want) {
			t.Fatalf("record %d: %+v, want %+v", i, r, want)
		}
	}
	div := Response{FetchResponse: region.FetchResponse{Unit: "u", Epoch: 3, Diverging: true, DivergingEpoch: 2, DivergingEnd: 7}}
	if got, err := DecodeResponse(EncodeResponse(div)); err != nil || !reflect.DeepEqual(got, div) {
		t.Fatalf("divergence %+v, %v", got, err)
	}
}

func TestDecodeRefuses(t *testing.T) {
	good := EncodeResponse(sampleResponse())
	flip := func(i int) []byte {
		b := append([]byte(nil), good...)
		b[i] ^= 0x40
		return b
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"a request", EncodeRequest(Request{FetchRequest: region.FetchRequest{Unit: "u", From: member(1)}})},
		{"truncated", good[:len(good)-1]},
		{"trailing bytes", append(append([]byte(nil), good...), 0)},
		{"a damaged record", flip(len(good) - 3)},
		{"an unknown error code", func() []byte {
			r := sampleResponse()
			r.Entries, r.Records = nil, nil
			r.Err = 9
			return EncodeResponse(r)
		}()},
		{"an epoch above the response's", func() []byte {
			r := sampleResponse()
			r.Entries[2].Epoch = 5
			return EncodeResponse(r)
		}()},
		{"epochs going back", func() []byte {
			r := sampleResponse()
			r.Entries[0].Epoch, r.Entries[1].Epoch, r.Entries[2].Epoch = 3, 2, 2
			return EncodeResponse(r)
		}()},
		{"records in a divergence", func() []byte {
			r := sampleResponse()
			r.Diverging = true
			return EncodeResponse(r)
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeResponse(tt.b); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err %v, want ErrMalformed", err)
			}
		})
	}
	for _, b := range [][]byte{nil, {requestMagic}, EncodeRequest(Request{FetchRequest: region.FetchRequest{Unit: "u"}}), good} {
		if _, err := DecodeRequest(b); !errors.Is(err, ErrMalformed) {
			t.Fatalf("request %x: err %v", b, err)
		}
	}
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add(EncodeRequest(Request{FetchRequest: region.FetchRequest{Unit: "stream:t/f/s", From: member(2), Epoch: 4, Offset: 10, LastEpoch: 2}, MaxWaitMillis: 500}))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeRequest(b)
		if err != nil {
			return
		}
		again, err := DecodeRequest(EncodeRequest(req))
		if err != nil || !reflect.DeepEqual(again, req) {
			t.Fatalf("re-encoding %+v: %+v, %v", req, again, err)
		}
	})
}

func FuzzDecodeResponse(f *testing.F) {
	f.Add(EncodeResponse(sampleResponse()))
	f.Add(EncodeResponse(Response{FetchResponse: region.FetchResponse{Unit: "u", Epoch: 3, Diverging: true, DivergingEpoch: 2, DivergingEnd: 7}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		resp, err := DecodeResponse(b)
		if err != nil {
			return
		}
		if len(resp.Records) != len(resp.Entries) {
			t.Fatalf("%d records for %d entries", len(resp.Records), len(resp.Entries))
		}
		again, err := DecodeResponse(EncodeResponse(resp))
		if err != nil || !reflect.DeepEqual(again.FetchResponse, resp.FetchResponse) {
			t.Fatalf("re-encoding: %+v, %v", again.FetchResponse, err)
		}
	})
}
