// Command gensnap writes synthetic monitoring messages for benchmarks:
// -consumers consumers, each with -times full-precision processing times,
// -count of them as JSON lines.
package main

import (
	"bufio"
	"flag"
	"os"

	"github.com/fedora-infra/fedmsg-collectd/internal/sim"
)

func main() {
	consumers := flag.Int("consumers", 200, "consumers per message")
	times := flag.Int("times", 1024, "processing times per consumer")
	count := flag.Int("count", 1, "messages, one per line")
	flag.Parse()
	w := bufio.NewWriter(os.Stdout)
	for i := range *count {
		w.Write(sim.Synthetic(*consumers, *times, uint64(i)))
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		os.Exit(1)
	}
}
