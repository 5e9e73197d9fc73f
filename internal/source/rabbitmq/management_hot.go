package rabbitmq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/source/httppoll"
)

// With traffic the overview's totals move at every poll, and the list of
// every queue's statistics costs a broker of 1000 queues 0.15-0.25 s of
// CPU (Debian's 3.10, measured): 0.9-1.5 s a minute at a poll every
// 10 s. Traffic is mostly in a few queues, so between lists a poll asks
// only about the queues that moved lately, the hot ones, by name: a
// paginated request with a name pattern, which the broker applies before
// it looks up any statistics (10 queues of 1000: 5 ms). The others are
// judged by the overview: its totals of messages ready, unacknowledged
// and delivered, of consumers and of queues, less the hot queues' own,
// are those of the other queues. While they are as at the latest list,
// the other queues' entries of that list stand; when they moved (a
// message into a queue that was idle), the poll lists every queue, as it
// does at least every maxCold. The lists are seen moving from the same
// statistics as the overview, so the judgement is exact but for changes
// that cancel out between idle queues within a poll (a message moved from
// one to another by dead-lettering), which the next list sees.

// maxHot is the most queues asked about by name; when more moved, every
// poll lists every queue.
const maxHot = 100

// maxPattern bounds the name pattern's length in the request's URL, as
// escaped there: the broker's web server (cowboy) refuses a request line
// over 8000 bytes.
const maxPattern = 6000

// hotFor is how long a queue stays hot after its figures last moved.
const hotFor = 5 * time.Minute

// maxCold is the longest the other queues' entries stand: as long as a
// whole answer stands on unchanged totals (management_overview.go).
const maxCold = maxQuiet

// errNotHot tells a poll that lists every queue: no hot queues to ask
// about, or the rest of the broker moved.
var errNotHot = errors.New("every queue asked")

// hot are the queues asked about by name.
type hot struct {
	// moved is when each hot queue's figures last moved; too many says
	// more than maxHot did at the latest judgement.
	moved   map[qkey]time.Time
	tooMany bool
	// rest are the overview's totals less the hot queues' at the latest
	// poll: those of the other queues (NaN where not judged).
	rest [5]float64
	// off counts the polls left that do not ask by name, after a request
	// failed (a broker or proxy that refuses pagination).
	off int
	// asked and listed count the polls that asked by name and those that
	// listed every queue.
	asked, listed int
}

// askHot asks about the hot queues by name and returns the latest answer
// with their entries replaced, or errNotHot (or the request's error) when
// the poll is to list every queue.
func (m *management) askHot(ctx context.Context, totals figures, judged bool, now func() time.Time) (answer, error) {
	h := &m.hot
	if !judged || m.full == nil || h.tooMany || len(h.moved) == 0 || now().Sub(m.listedAt) >= maxCold {
		return answer{}, errNotHot
	}
	if h.off > 0 {
		h.off--
		return answer{}, errNotHot
	}
	pattern := hotPattern(h.moved)
	if len(url.QueryEscape(pattern)) > maxPattern {
		return answer{}, errNotHot
	}
	page, err := m.s.getPage(ctx, pattern)
	if err != nil {
		h.off = int(maxQuiet / max(m.s.Interval, time.Second))
		m.s.Logger.Debug("asking for the queues that moved by name failed: every queue is listed", "broker", m.s.Endpoint(), "err", httppoll.Brief(err))
		return answer{}, err
	}
	byKey := make(map[qkey]*queue, len(h.moved))
	for i := range page.queues {
		q := &page.queues[i]
		if k := (qkey{q.VHost, q.Name}); h.moved[k] != (time.Time{}) {
			byKey[k] = q
		}
	}
	if len(byKey) != len(h.moved) || !sameRest(h.rest, restOf(totals, byKey)) {
		return answer{}, errNotHot // a hot queue gone, or the rest moved
	}
	a := *m.full
	a.queues = make([]queue, len(m.full.queues))
	copy(a.queues, m.full.queues)
	for i := range a.queues {
		if q := byKey[qkey{a.queues[i].VHost, a.queues[i].Name}]; q != nil {
			a.queues[i] = *q
		}
	}
	h.asked++
	return a, nil
}

// judge takes in a poll's answer: the queues whose figures moved since
// the previous answer are hot from now on, and the rest of the broker's
// totals are those less the hot queues'.
func (m *management) judge(a answer, totals figures, judged, listed bool, now func() time.Time) {
	h := &m.hot
	if listed {
		h.listed++
	}
	prev := m.full
	m.full, m.totals = nil, totals
	if !judged {
		h.moved, h.tooMany = nil, false
		return
	}
	if listed {
		m.listedAt = now()
	}
	m.full = &a
	if h.moved == nil {
		h.moved = map[qkey]time.Time{}
	}
	var before map[qkey]*queue
	if prev != nil {
		before = make(map[qkey]*queue, len(prev.queues))
		for i := range prev.queues {
			q := &prev.queues[i]
			before[qkey{q.VHost, q.Name}] = q
		}
	}
	here := make(map[qkey]*queue, len(h.moved))
	h.tooMany = false
	for i := range a.queues {
		q := &a.queues[i]
		k := qkey{q.VHost, q.Name}
		if b := before[k]; prev != nil && (b == nil || !sameFigures(b, q)) {
			h.moved[k] = now()
		}
		if _, ok := h.moved[k]; ok {
			here[k] = q
		}
		if len(h.moved) > maxHot {
			h.moved, h.tooMany = map[qkey]time.Time{}, true
			return
		}
	}
	for k, t := range h.moved {
		if here[k] == nil || now().Sub(t) >= hotFor {
			delete(h.moved, k)
			delete(here, k)
		}
	}
	h.rest = restOf(totals, here)
}

// restOf returns the totals less those of the queues.
func restOf(totals figures, queues map[qkey]*queue) [5]float64 {
	rest := [5]float64{totals[figReady], totals[figUnacked], totals[figDeliver], totals[figConsumers], totals[figQueues]}
	for _, q := range queues {
		// A queue never delivered from has no counter: none of the
		// overview's either. One without lengths or consumers has no
		// statistics yet (just made): it cannot be judged.
		var none float64
		deliver := q.Stats.Deliver
		if deliver == nil {
			deliver = &none
		}
		for i, p := range []*float64{q.Ready, q.Unacked, deliver, q.Consumers} {
			if p == nil {
				rest[i] = math.NaN()
				continue
			}
			rest[i] -= *p
		}
		rest[4]--
	}
	return rest
}

// sameRest says whether the rest is as before: every total told, each
// the same (the figures are counts: whole numbers, exact in a float64).
func sameRest(a, b [5]float64) bool {
	for i := range a {
		if math.IsNaN(a[i]) || a[i] != b[i] {
			return false
		}
	}
	return true
}

// sameFigures says whether a queue's figures are as they were.
func sameFigures(a, b *queue) bool {
	eq := func(x, y *float64) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	return a.Type == b.Type && eq(a.Ready, b.Ready) && eq(a.Unacked, b.Unacked) && eq(a.Consumers, b.Consumers) &&
		eq(a.Stats.Publish, b.Stats.Publish) && eq(a.Stats.Deliver, b.Stats.Deliver)
}

// hotPattern is the pattern of the hot queues' names, in a fixed order.
// The broker matches it regardless of case, and in every vhost when no
// one is given: the answer's entries are taken by their exact names.
func hotPattern(moved map[qkey]time.Time) string {
	names := make([]string, 0, len(moved))
	seen := map[string]bool{}
	for k := range moved {
		if !seen[k.name] {
			seen[k.name] = true
			names = append(names, regexp.QuoteMeta(k.name))
		}
	}
	slices.Sort(names)
	return "^(?:" + strings.Join(names, "|") + ")$"
}

// pageSize is the size of the page asked for: the broker's largest.
const pageSize = 500

// getPage asks for the statistics of the queues whose names match the
// pattern, as one page of the paginated API.
func (s *Source) getPage(ctx context.Context, pattern string) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	query := "page=1&page_size=" + strconv.Itoa(pageSize) + "&use_regex=true&name=" + url.QueryEscape(pattern) + "&columns=" + Columns
	req, err := s.request(ctx, query)
	if err != nil {
		return answer{}, err
	}
	var a answer
	err = httppoll.Get(ctx, s.Client, req, s.MaxBody, func(r io.Reader) error {
		var p struct {
			Items     json.RawMessage `json:"items"`
			PageCount *int            `json:"page_count"`
		}
		if err := json.NewDecoder(r).Decode(&p); err != nil {
			return errors.New("not the page of queues expected")
		}
		if p.PageCount == nil || *p.PageCount > 1 || len(p.Items) == 0 {
			return errors.New("not one page of queues")
		}
		a, err = decode(bytes.NewReader(p.Items), s.MaxQueues, nil)
		return err
	})
	return a, err
}
