package kafka

import "github.com/twmb/franz-go/pkg/kmsg"

// listGroups lists the groups held in memory (v4+ may filter by state).
func (c *conn) listGroups(req *kmsg.ListGroupsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	for _, info := range c.s.groups.list() {
		if len(req.StatesFilter) > 0 && !wanted(req.StatesFilter, info.state) {
			continue
		}
		g := kmsg.NewListGroupsResponseGroup()
		g.Group, g.ProtocolType, g.GroupState = info.id, info.protocolType, info.state
		resp.Groups = append(resp.Groups, g)
	}
	return resp
}
