package wsproto

import "fmt"

var ackFields = []string{"result", "messageId", "errorMsg", "context"}

// DecodeProducerAcks parses a producer's answer: one ProducerAck object,
// or a JSON array of them answering a batch frame (null elements read as
// empty acks). It checks the JSON only; the caller matches the acks to
// what it sent.
func DecodeProducerAcks(data []byte) ([]ProducerAck, error) {
	s := scanner{data: data}
	var acks []ProducerAck
	var err error
	if IsBatch(data) {
		_, err = s.beginArray("acks") // IsBatch: '['
		for i := 0; err == nil; i++ {
			var more bool
			if more, err = s.nextElement(i); err != nil || !more {
				break
			}
			if i >= MaxBatchMessages {
				err = fmt.Errorf("more than %d acks", MaxBatchMessages)
				break
			}
			acks = append(acks, ProducerAck{})
			err = s.parseAck(&acks[len(acks)-1])
		}
	} else {
		acks = make([]ProducerAck, 1)
		err = s.parseAck(&acks[0])
	}
	if err == nil {
		err = s.end()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadFrame, err)
	}
	return acks, nil
}

// parseAck reads one ProducerAck object (null reads as an empty one).
func (s *scanner) parseAck(a *ProducerAck) error {
	ok, err := s.beginObject("ProducerAck")
	for i := 0; ok && err == nil; i++ {
		var key []byte
		if key, ok, err = s.nextKey(i); err != nil || !ok {
			break
		}
		switch fieldIndex(key, ackFields) {
		case 0:
			if s.peek() == '"' && len(s.data)-s.pos >= 4 && string(s.data[s.pos:s.pos+4]) == `"ok"` {
				a.Result = "ok" // the common answer, without allocating
				s.pos += 4
				continue
			}
			err = s.strInto("result", &a.Result)
		case 1:
			err = s.strInto("messageId", &a.MessageID)
		case 2:
			err = s.strInto("errorMsg", &a.ErrorMsg)
		case 3:
			err = s.strInto("context", &a.Context)
		default:
			err = s.skip()
		}
	}
	return err
}
