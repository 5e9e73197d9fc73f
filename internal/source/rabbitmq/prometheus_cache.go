package rabbitmq

// sweep takes up an answer's series, and forgets those and the queues it
// did not have. It calls lost with the queue of each counter that
// counted before and is gone (a channel closed): what it counted since
// the previous answer is not known.
func (c *seriesCache) sweep(lost func(qkey)) {
	for id, i := range c.byID {
		s := &c.series[i]
		if s.seen != c.answer {
			if s.kind >= kindIn && s.flags&(skipped|bad) == 0 && s.flags&hasLast != 0 && int(s.queue) < len(c.queues) {
				lost(c.queues[s.queue].key)
			}
			delete(c.byID, id)
			delete(c.texts, id)
			*s = series{}
			c.free = append(c.free, i)
			continue
		}
		if s.flags&countNow != 0 {
			s.last = s.v
			s.flags |= hasLast
		}
		s.flags &^= countNow
	}
	for i := range c.queues {
		q := &c.queues[i]
		if q.seen != c.answer && q.key != (qkey{}) && c.byName[q.key] == int32(i) {
			delete(c.byName, q.key)
			*q = cachedQueue{}
			c.qfree = append(c.qfree, int32(i))
		}
	}
}

// queue returns the index of a queue, kept if new.
func (c *seriesCache) queue(k qkey) int32 {
	if i, ok := c.byName[k]; ok {
		return i
	}
	var i int32
	if n := len(c.qfree); n > 0 {
		i = c.qfree[n-1]
		c.qfree = c.qfree[:n-1]
		c.queues[i] = cachedQueue{key: k}
	} else {
		i = int32(len(c.queues))
		c.queues = append(c.queues, cachedQueue{key: k})
	}
	c.byName[k] = i
	c.qadded = append(c.qadded, i)
	return i
}

// forgetAdded forgets the series and queues the answer being decoded
// added: a failed answer costs no memory after it.
func (c *seriesCache) forgetAdded() {
	for _, id := range c.added {
		if i, ok := c.byID[id]; ok {
			delete(c.byID, id)
			delete(c.texts, id)
			c.series[i] = series{}
			c.free = append(c.free, i)
		}
	}
	for _, i := range c.qadded {
		delete(c.byName, c.queues[i].key)
		c.queues[i] = cachedQueue{}
		c.qfree = append(c.qfree, i)
	}
	c.added, c.qadded = nil, nil
}

// compact rebuilds the cache at the size of what it holds: Go's maps do
// not shrink, and a failed answer of a million series leaves their room.
func (c *seriesCache) compact() {
	remap := make([]int32, len(c.queues))
	queues := make([]cachedQueue, 0, len(c.byName))
	byName := make(map[qkey]int32, len(c.byName))
	for k, i := range c.byName {
		remap[i] = int32(len(queues))
		byName[k] = remap[i]
		queues = append(queues, c.queues[i])
	}
	kept := make([]series, 0, len(c.byID))
	byID := make(map[uint64]int32, len(c.byID))
	for id, i := range c.byID {
		sr := c.series[i]
		if int(sr.queue) < len(remap) {
			sr.queue = remap[sr.queue] // meaningless, and unused, but for a queue's series
		}
		byID[id] = int32(len(kept))
		kept = append(kept, sr)
	}
	c.series, c.byID, c.free = kept, byID, nil
	c.queues, c.byName, c.qfree = queues, byName, nil
}
