package pipeline

import (
	"errors"
	"io"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// Replay feeds the messages that next returns, until io.EOF, through hubs
// into sink as the live pipeline does, each snapshot's batch in an update
// of its own; recorded arrival times, periods and sessions make the output
// the same on every run. Messages that do not decode are passed to bad and
// counted. It returns the count, and the first error of next (other than
// io.EOF) or of the sink.
func Replay(next func() (model.Message, error), hubs *Hubs, sink Sink, bad func(error)) (int, error) {
	n := 0
	batch := make([]report.Batch, 1)
	for {
		m, err := next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		b, err := hubs.Add(m)
		if err != nil {
			n++
			bad(err)
			continue
		}
		batch[0] = b
		err = sink.Write(report.Update{Snapshots: batch})
		hubs.Release()
		if err != nil {
			return n, err
		}
	}
}
