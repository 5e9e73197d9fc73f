package pipeline

import (
	"context"
	"sync"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// Sources returns one Source of several: hubs and brokers watched by one
// pipeline.
func Sources(srcs ...Source) Source {
	if len(srcs) == 1 {
		return srcs[0]
	}
	return multi(srcs)
}

type multi []Source

func (m multi) Run(ctx context.Context, deliver func(model.Message)) {
	var wg sync.WaitGroup
	for _, s := range m {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Run(ctx, deliver)
		}()
	}
	wg.Wait()
}

func (m multi) Watched() []model.Watched {
	var out []model.Watched
	for _, s := range m {
		out = append(out, s.Watched()...)
	}
	return out
}

// SkippedFiles adds up the files discovery skips, of the sources that
// discover (see selfBatch).
func (m multi) SkippedFiles() int {
	n := 0
	for _, s := range m {
		if d, ok := s.(interface{ SkippedFiles() int }); ok {
			n += d.SkippedFiles()
		}
	}
	return n
}

// AsSources returns srcs as Sources, with err: what a kind of source's
// Build returns from its own constructor's typed list.
func AsSources[S Source](srcs []S, err error) ([]Source, error) {
	out := make([]Source, len(srcs))
	for i, s := range srcs {
		out[i] = s
	}
	return out, err
}
