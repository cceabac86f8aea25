package kafka

import "github.com/twmb/franz-go/pkg/kmsg"

// syncGroup hands out the leader's assignment; followers are held until
// the leader's SyncGroup arrives.
func (c *conn) syncGroup(req *kmsg.SyncGroupRequest, sl *slot) {
	sl.abandonable = true
	if code := c.s.coordinatorCode(req.Group); code != 0 {
		sl.finish(syncResponse(req.Version, syncResult{code: code}))
		return
	}
	c.s.groups.sync(req, sl)
}
