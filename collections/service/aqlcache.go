package service

import (
	"sync"

	"github.com/causeway/causeway/collections/aql"
)

// aqlCacheEntries bounds the parsed AQL queries a node keeps. Parsing
// takes about a millisecond; a parsed query is immutable and serves any
// number of runs at once.
const aqlCacheEntries = 512

// aqlCache keeps parsed AQL queries by text; when full, the oldest entry
// goes. Errors are not kept. The zero value is ready.
type aqlCache struct {
	mu    sync.Mutex
	m     map[string]*aql.Query
	order []string
}

func (c *aqlCache) parse(text string) (*aql.Query, error) {
	c.mu.Lock()
	q, ok := c.m[text]
	c.mu.Unlock()
	if ok {
		return q, nil
	}
	q, err := aql.Parse(text)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]*aql.Query, aqlCacheEntries)
	}
	if _, ok := c.m[text]; !ok {
		if len(c.order) >= aqlCacheEntries {
			delete(c.m, c.order[0])
			c.order = c.order[1:]
		}
		c.m[text] = q
		c.order = append(c.order, text)
	}
	return q, nil
}
