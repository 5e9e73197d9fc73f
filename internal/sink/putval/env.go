package putval

import (
	"strconv"
	"time"
)

// Interval is collectd's interval: flagValue when set, else
// COLLECTD_INTERVAL in seconds, else collectd's default of 10 s.
func Interval(flagValue time.Duration, getenv func(string) string) time.Duration {
	if flagValue != 0 {
		return flagValue
	}
	if f, err := strconv.ParseFloat(getenv("COLLECTD_INTERVAL"), 64); err == nil && f >= 0.1 && f <= 86400 {
		return time.Duration(f * float64(time.Second))
	}
	return 10 * time.Second
}

// Usage is the head of the run command's help (the plugin's), after the
// program's overview and before its flags.
const Usage = `collectd starts the plugin once and reads PUTVAL lines from its stdout for
as long as it runs. Each hub's monitoring socket is read by its own
subscriber; a hub that is not running yet is waited for quietly.
Diagnostics go to stderr, which collectd logs as errors: they are rare.

Without --endpoint, the sockets DIR/monitoring-SERVICE.socket are
discovered and rescanned, so hubs that appear later are picked up; a hub
whose socket goes away is reported lost until --forget-after.
`
