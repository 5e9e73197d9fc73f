package capture

import (
	"bufio"
	"io"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/pipeline"
)

// Replay feeds what in holds (a capture, or plain snapshots stamped from
// d) through the pipeline's decode and derive into the sink that sinkFor
// makes for a buffered out, flushed once at the end; bad sees each message
// that is not a snapshot, with its line. It returns how many messages
// there were and how many were bad, and the first error of reading,
// writing or flushing.
func Replay(in io.Reader, d Defaults, smoothing time.Duration, out io.Writer, sinkFor func(io.Writer) pipeline.Sink, bad func(line int, err error)) (total, nbad int, err error) {
	rd := NewReader(in, d)
	next := func() (model.Message, error) {
		it, err := rd.Next()
		if err == nil {
			total++
		}
		return it.Message, err
	}
	buf := bufio.NewWriterSize(out, 64<<10) // flushed once, at the end
	sink := sinkFor(buf)
	_, err = pipeline.Replay(next, pipeline.NewHubs(smoothing, nil), sink, func(err error) {
		nbad++
		bad(rd.Line(), err)
	})
	if err == nil {
		err = buf.Flush()
	}
	return total, nbad, err
}
