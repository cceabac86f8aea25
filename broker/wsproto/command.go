package wsproto

import "fmt"

var commandFields = []string{"type", "messageId", "permitMessages"}

// DecodeConsumerCommand parses and validates a consumer/reader frame.
func DecodeConsumerCommand(data []byte) (ConsumerCommand, MessageID, error) {
	c, err := parseCommand(data)
	if err != nil {
		return c, MessageID{}, fmt.Errorf("%w: %v", ErrBadFrame, err)
	}
	if c.Type == "" {
		c.Type = CmdAck
	}
	switch c.Type {
	case CmdAck, CmdCumulativeAck, CmdNegativeAck:
		id, err := ParseMessageID(c.MessageID)
		if err != nil {
			return c, MessageID{}, err
		}
		return c, id, nil
	case CmdPermit:
		if c.PermitMessages <= 0 || c.PermitMessages > maxPermitsPerFrame {
			return c, MessageID{}, fmt.Errorf("%w: permitMessages must be in 1..%d, got %d", ErrBadFrame, maxPermitsPerFrame, c.PermitMessages)
		}
		return c, MessageID{}, nil
	case CmdUnsubscribe, CmdIsEndOfTopic:
		return c, MessageID{}, nil
	default:
		return c, MessageID{}, fmt.Errorf("%w: unknown command type %q", ErrBadFrame, c.Type)
	}
}

// parseCommand reads a ConsumerCommand object (null reads as an empty one).
func parseCommand(data []byte) (ConsumerCommand, error) {
	var c ConsumerCommand
	s := scanner{data: data}
	ok, err := s.beginObject("ConsumerCommand")
	for i := 0; ok && err == nil; i++ {
		var key []byte
		if key, ok, err = s.nextKey(i); err != nil || !ok {
			break
		}
		switch fieldIndex(key, commandFields) {
		case 0:
			err = s.strInto("type", &c.Type)
		case 1:
			err = s.strInto("messageId", &c.MessageID)
		case 2:
			err = s.intInto("permitMessages", &c.PermitMessages)
		default:
			err = s.skip()
		}
	}
	if err == nil {
		err = s.end()
	}
	if err != nil {
		return ConsumerCommand{}, err
	}
	return c, nil
}

// AppendConsumerCommand renders a consumer or reader command frame, with
// the fields of ConsumerCommand that are set.
func AppendConsumerCommand(b []byte, c ConsumerCommand) []byte {
	b = append(b, '{')
	sep := false
	if c.Type != "" {
		b = append(b, `"type":`...)
		b = AppendJSONString(b, c.Type)
		sep = true
	}
	if c.MessageID != "" {
		if sep {
			b = append(b, ',')
		}
		b = append(b, `"messageId":`...)
		b = AppendJSONString(b, c.MessageID)
		sep = true
	}
	if c.PermitMessages != 0 {
		if sep {
			b = append(b, ',')
		}
		b = append(b, `"permitMessages":`...)
		b = appendInt(b, int64(c.PermitMessages))
	}
	return append(b, '}')
}
