package kafka

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// consumerProtocol is the protocol type of Kafka consumer groups, given to
// groups known only by their committed offsets.
const consumerProtocol = "consumer"

// describeGroups reports groups' state and members: a group with no member
// but committed offsets is "Empty" (storedgroups.go), an unknown group
// "Dead", as Kafka does.
func (c *conn) describeGroups(req *kmsg.DescribeGroupsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	var stored map[string]bool
	for _, id := range req.Groups {
		g := kmsg.NewDescribeGroupsResponseGroup()
		g.Group = id
		if g.ErrorCode = c.s.coordinatorCode(id); g.ErrorCode != 0 {
			resp.Groups = append(resp.Groups, g)
			continue
		}
		info, ok := c.s.groups.describe(id)
		if !ok {
			g.State = "Dead"
			if c.s.cluster != nil {
				has, err := c.s.hasRegionOffsets(id)
				if err != nil {
					g.ErrorCode = c.s.groupReadCode(err)
				} else if has {
					g.State, g.ProtocolType = "Empty", consumerProtocol
				}
				resp.Groups = append(resp.Groups, g)
				continue
			}
			if stored == nil {
				stored = c.s.storedGroups()
			}
			if stored[id] {
				g.State, g.ProtocolType = "Empty", consumerProtocol
			}
			resp.Groups = append(resp.Groups, g)
			continue
		}
		g.State, g.ProtocolType, g.Protocol = info.state, info.protocolType, info.protocol
		for _, m := range info.members {
			gm := kmsg.NewDescribeGroupsResponseGroupMember()
			gm.MemberID, gm.ClientID, gm.ClientHost = m.id, m.clientID, m.clientHost
			if m.instanceID != "" {
				gm.InstanceID = kmsg.StringPtr(m.instanceID)
			}
			gm.ProtocolMetadata, gm.MemberAssignment = m.metadata, m.assignment
			g.Members = append(g.Members, gm)
		}
		resp.Groups = append(resp.Groups, g)
	}
	return resp
}
