package hubmon

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/testhub"
)

// TestDirPermission: a socket directory the plugin may not read is said,
// with the hint, once however often it is rescanned. (As root no
// directory is unreadable: the error is made where the directory is read.)
func TestDirPermission(t *testing.T) {
	dir := t.TempDir()
	var (
		logs  testhub.Buffer
		lists atomic.Int32
	)
	d := &Discovery{Dir: dir, ReadDir: func(string) ([]os.DirEntry, error) {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: syscall.EACCES}
	}}
	sup := &Supervisor{
		Options: Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))},
		List: func() ([]model.Endpoint, error) {
			lists.Add(1)
			return d.List()
		},
		Rescan: 5 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sup.Run(ctx, func(model.Message) {}); close(done) }()
	for deadline := time.Now().Add(10 * time.Second); lists.Load() < 5 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	out := logs.String()
	if lists.Load() < 5 || strings.Count(out, "\n") != 1 || !strings.Contains(out, "permission denied") ||
		!strings.Contains(out, "needs read (r) and search (x) permission on it") {
		t.Errorf("%d listings, logged:\n%s", lists.Load(), out)
	}
}
