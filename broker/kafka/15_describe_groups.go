package kafka

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// describeGroups reports groups' state and members ("Dead" for unknown
// groups, as Kafka does).
func (c *conn) describeGroups(req *kmsg.DescribeGroupsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, id := range req.Groups {
		g := kmsg.NewDescribeGroupsResponseGroup()
		g.Group = id
		info, ok := c.s.groups.describe(id)
		if !ok {
			g.State = "Dead"
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
