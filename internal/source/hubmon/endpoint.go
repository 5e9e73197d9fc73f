package hubmon

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// DefaultSocketDir is where fedmsg deployments put their monitoring sockets.
const DefaultSocketDir = "/var/run/fedmsg"

// ParseEndpoint parses an --endpoint argument: ENDPOINT or SERVICE=ENDPOINT,
// where ENDPOINT is ipc://PATH (three or four slashes, or ipc://@name for an
// abstract socket) or tcp://HOST:PORT. Without SERVICE= the service name is
// derived by ServiceName. A SERVICE given is returned as it is: whether it
// suits a sink is the sink's rule.
func ParseEndpoint(arg string) (model.Endpoint, error) {
	service, addr := "", arg
	// A '=' before the scheme separates SERVICE; one after it is part of
	// a path.
	if i := strings.Index(arg, "="); i >= 0 && (i < strings.Index(arg, "://") || !strings.Contains(arg, "://")) {
		service, addr = arg[:i], arg[i+1:]
	}
	if _, _, err := SplitAddr(addr); err != nil {
		return model.Endpoint{}, fmt.Errorf("endpoint %q: %w", arg, err)
	}
	if service == "" {
		service = ServiceName(addr)
	}
	return model.Endpoint{Service: service, Addr: addr}, nil
}

// SplitAddr checks a ZeroMQ endpoint, ipc://PATH or tcp://HOST:PORT, and
// returns the network to dial ("unix" or "tcp") and the address on it: the
// path (an abstract socket's with a leading NUL for "ipc://@name"), or
// HOST:PORT. It is the one parser of endpoint schemes.
func SplitAddr(addr string) (network, address string, err error) {
	scheme, rest, ok := strings.Cut(addr, "://")
	switch {
	case !ok:
		return "", "", errors.New("want ipc://PATH or tcp://HOST:PORT")
	case scheme == "ipc":
		if strings.Trim(rest, "/") == "" || rest == "@" {
			return "", "", errors.New("no socket path")
		}
		if name, ok := strings.CutPrefix(rest, "@"); ok {
			return "unix", "\x00" + name, nil
		}
		return "unix", rest, nil
	case scheme == "tcp":
		host, port, err := net.SplitHostPort(rest)
		if err != nil || host == "" || port == "" || host == "*" {
			return "", "", errors.New("want tcp://HOST:PORT")
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port[0] == '0' || port[0] == '+' {
			return "", "", fmt.Errorf("port %q: want a number from 1 to 65535", port)
		}
		return "tcp", rest, nil
	}
	return "", "", fmt.Errorf("scheme %q not supported (ipc or tcp)", scheme)
}

// ServiceName derives a service name from an endpoint:
//   - ipc://.../monitoring-SERVICE.socket gives SERVICE, the fedmsg
//     convention (monitoring-fedmsg-hub.socket gives fedmsg-hub);
//   - any other ipc path gives "fedmsg-" and the file name without its
//     extension (ipc:///tmp/hub.sock gives fedmsg-hub);
//   - tcp://HOST:PORT gives "fedmsg-HOST_PORT" (tcp://127.0.0.1:3000 gives
//     fedmsg-127_0_0_1_3000).
//
// Characters other than letters, digits, '_' and, in SERVICE, '-' become
// '_', so the result is a valid service name for every sink.
func ServiceName(addr string) string {
	scheme, rest, _ := strings.Cut(addr, "://")
	if scheme == "tcp" {
		return model.ServiceWord("fedmsg-", strings.ReplaceAll(rest, ":", "_"), false)
	}
	base := filepath.Base(strings.TrimPrefix(rest, "@"))
	if s, ok := strings.CutPrefix(base, "monitoring-"); ok {
		if s, ok := strings.CutSuffix(s, ".socket"); ok && s != "" {
			return model.ServiceWord("", s, true)
		}
	}
	if ext := filepath.Ext(base); ext != "" && ext != base {
		base = strings.TrimSuffix(base, ext)
	}
	return model.ServiceWord("fedmsg-", base, false)
}

// Skip is a file named like a monitoring socket that discovery does not
// watch, and why.
type Skip struct {
	Path, Reason string
}

// Discover lists the monitoring sockets in dir, monitoring-*.socket, as
// endpoints sorted by service, and the files so named that it skips: a
// directory, regular file, FIFO or dangling symlink (not a socket); a
// socket whose service another socket already gives (monitoring-a.b and
// monitoring-a_b both give a_b: the first path in sorted order keeps
// it); a socket giving the plugin's own service. A directory that does not
// exist (no hub installed yet) gives no endpoints and no error.
//
// A directory this process may not read is an error that says so, with
// what to change.
func Discover(dir string) ([]model.Endpoint, []Skip, error) {
	return discover(dir, os.ReadDir)
}

// discover is Discover with the directory listed by readDir: os.ReadDir,
// or in tests what root cannot see (a permission error).
func discover(dir string, readDir func(string) ([]os.DirEntry, error)) ([]model.Endpoint, []Skip, error) {
	entries, err := readDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil, nil
	case errors.Is(err, fs.ErrPermission):
		return nil, nil, fmt.Errorf("cannot list the sockets in %s: permission denied; %s", dir, DirHint(dir))
	case err != nil:
		return nil, nil, fmt.Errorf("cannot list the sockets in %s: %w", dir, err)
	}
	var paths []string
	for _, e := range entries {
		if ok, _ := filepath.Match("monitoring-*.socket", e.Name()); ok {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(paths)
	var (
		eps   = make([]model.Endpoint, 0, len(paths))
		skips []Skip
		taken = map[string]string{}
	)
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		fi, err := os.Stat(abs)
		switch {
		case err != nil:
			skips = append(skips, Skip{abs, "cannot stat it (a dangling symlink?): " + err.Error()})
			continue
		case fi.Mode()&os.ModeSocket == 0:
			skips = append(skips, Skip{abs, "not a socket but " + kind(fi.Mode())})
			continue
		}
		addr := "ipc://" + abs
		service := ServiceName(addr)
		if service == model.SelfService {
			skips = append(skips, Skip{abs, "its service " + service + " is the plugin's own"})
			continue
		}
		if prev, dup := taken[service]; dup {
			skips = append(skips, Skip{abs, "its service " + service + " is already " + prev + "'s"})
			continue
		}
		taken[service] = abs
		eps = append(eps, model.Endpoint{Service: service, Addr: addr})
	}
	slices.SortFunc(eps, func(a, b model.Endpoint) int { return strings.Compare(a.Service, b.Service) })
	return eps, skips, nil
}

// kind names what a file that is not a socket is.
func kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m.IsRegular():
		return "a regular file"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	}
	return "a " + m.Type().String() + " file"
}
