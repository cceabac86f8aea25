package kafka

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// listGroups lists the groups held in memory and the groups with committed
// offsets but no member, as Empty (v4+ may filter by state).
func (c *conn) listGroups(req *kmsg.ListGroupsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	groups := c.s.groups.list()
	inMemory := map[string]bool{}
	for _, info := range groups {
		inMemory[info.id] = true
	}
	for id := range c.s.storedGroups() { // none in a region of several nodes (storedgroups.go)
		if !inMemory[id] {
			groups = append(groups, groupInfo{id: id, state: "Empty", protocolType: consumerProtocol})
		}
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].id < groups[j].id })
	for _, info := range groups {
		if len(req.StatesFilter) > 0 && !wanted(req.StatesFilter, info.state) {
			continue
		}
		g := kmsg.NewListGroupsResponseGroup()
		g.Group, g.ProtocolType, g.GroupState = info.id, info.protocolType, info.state
		resp.Groups = append(resp.Groups, g)
	}
	return resp
}
