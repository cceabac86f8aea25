package kafka

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/zap"
)

// listGroups lists the groups held in memory and the groups with committed
// offsets but no member, as Empty (v4+ may filter by state). In a region
// of several nodes, as in Kafka, a node lists the groups it coordinates
// (admin clients ask every broker).
func (c *conn) listGroups(req *kmsg.ListGroupsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	stored := c.s.storedGroups()
	if c.s.cluster != nil {
		var err error
		if stored, err = c.s.regionGroups(); err != nil {
			c.log.Warn("listing the groups with committed offsets", zap.Error(err))
			resp.ErrorCode = c.s.groupReadCode(err)
			return resp
		}
	}
	var groups []groupInfo
	inMemory := map[string]bool{}
	for _, info := range c.s.groups.list() {
		inMemory[info.id] = true
		if c.s.coordinatorCode(info.id) == 0 { // not a group that moved away
			groups = append(groups, info)
		}
	}
	for id := range stored {
		if !inMemory[id] && c.s.coordinatorCode(id) == 0 {
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
