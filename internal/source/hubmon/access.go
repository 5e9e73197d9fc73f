package hubmon

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// AccessHint explains a permission error on the ipc socket file path: the
// user and groups this process runs as, the owner, group and mode of the
// socket (or of the first directory on its path this process cannot
// enter), and what to change. It is for a log line, once.
func AccessHint(path string) string {
	// The first directory that cannot be entered is the obstacle, not
	// the socket.
	dir := filepath.Dir(path)
	var blocked string
	for d := dir; ; d = filepath.Dir(d) {
		if syscall.Access(d, 1) != nil { // X_OK
			blocked = d
		}
		if d == "/" || d == "." {
			break
		}
	}
	if blocked != "" {
		return hint(blocked, "connecting needs search (x) permission on it", "or give the hub a wider moksha.monitoring.socket.mode")
	}
	return hint(path, "connecting needs write permission on it", "or give the hub a wider moksha.monitoring.socket.mode")
}

// DirHint explains a permission error listing dir, as AccessHint does for
// a socket: discovering sockets needs read and search permission on it.
func DirHint(dir string) string {
	return hint(dir, "discovering the sockets in it needs read (r) and search (x) permission on it", "or name the sockets with --endpoint")
}

// hint says who this process runs as, the owner, group and mode of
// target, what the access needs, and what to change: join target's group,
// or else.
func hint(target, need, orElse string) string {
	who := fmt.Sprintf("running as user %s (%d), groups %s", userName(os.Geteuid()), os.Geteuid(), groupNames())
	fi, err := os.Stat(target)
	if err != nil {
		return fmt.Sprintf("%s; cannot stat %s: %v", who, target, err)
	}
	owner, group := "?", "?"
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		owner, group = userName(int(st.Uid)), groupName(int(st.Gid))
	}
	return fmt.Sprintf("%s; %s is %s:%s mode %04o and %s: "+
		"run the plugin with group %s (collectd: Exec \"nobody:%s\"; a shell user: usermod -aG %s USER), %s",
		who, target, owner, group, fi.Mode().Perm(), need, group, group, group, orElse)
}

func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return strconv.Itoa(uid)
}

func groupName(gid int) string {
	if g, err := user.LookupGroupId(strconv.Itoa(gid)); err == nil {
		return g.Name
	}
	return strconv.Itoa(gid)
}

// groupNames lists the effective group and the supplementary groups.
func groupNames() string {
	gids := []int{os.Getegid()}
	if more, err := os.Getgroups(); err == nil {
		for _, g := range more {
			if g != gids[0] {
				gids = append(gids, g)
			}
		}
	}
	names := make([]string, len(gids))
	for i, g := range gids {
		names[i] = fmt.Sprintf("%s (%d)", groupName(g), g)
	}
	return strings.Join(names, ", ")
}
