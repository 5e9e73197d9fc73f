// Command zmqfloor is the floor under the plugin's CPU in scripts/bench:
// a SUB with zmq4 on every hub socket of a directory, each message
// received and dropped. What the plugin costs beyond it is its own
// decoding, analytics and writing.
//
// usage: go run ./scripts/zmqfloor DIR
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	"github.com/go-zeromq/zmq4"
)

func main() {
	runtime.GOMAXPROCS(1) // as the plugin runs
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: zmqfloor DIR")
		os.Exit(2)
	}
	socks, err := filepath.Glob(filepath.Join(os.Args[1], "monitoring-*.socket"))
	if err != nil || len(socks) == 0 {
		fmt.Fprintln(os.Stderr, "zmqfloor: no monitoring-*.socket in", os.Args[1])
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	for _, s := range socks {
		sub := zmq4.NewSub(ctx)
		if err := sub.Dial("ipc://" + s); err != nil {
			fmt.Fprintln(os.Stderr, "zmqfloor:", err)
			os.Exit(1)
		}
		if err := sub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
			fmt.Fprintln(os.Stderr, "zmqfloor:", err)
			os.Exit(1)
		}
		go func() {
			for {
				if _, err := sub.Recv(); err != nil {
					return
				}
			}
		}()
	}
	<-ctx.Done()
}
