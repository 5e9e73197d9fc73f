package putval

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// Notification severities collectd accepts.
const (
	Failure = "failure"
	Warning = "warning"
	Okay    = "okay"
)

// maxMessage is collectd's NOTIF_MAX_MSG_LEN less the terminating NUL.
const maxMessage = 255

// Notification is a PUTNOTIF command: an event about one identifier that
// collectd hands to its notification plugins and the threshold chain.
type Notification struct {
	Severity           string // Failure, Warning or Okay
	Time               time.Time
	Host, Service      string
	Type, TypeInstance string
	Message            string
}

// FormatNotification appends the PUTNOTIF line of n to buf. Every option
// value is quoted (collectd rejects an unquoted message with spaces); the
// message loses control characters and is cut to what collectd keeps.
func FormatNotification(buf *bytes.Buffer, n Notification) {
	plugin, inst, _ := strings.Cut(n.Service, "-")
	msg := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, n.Message)
	if len(msg) > maxMessage {
		msg = report.Fit(msg, maxMessage)
	}
	fmt.Fprintf(buf, "PUTNOTIF severity=%s time=%.3f host=%s plugin=%s",
		n.Severity, float64(n.Time.UnixNano())/1e9, strconv.Quote(n.Host), strconv.Quote(plugin))
	for _, o := range []struct{ k, v string }{{"plugin_instance", inst}, {"type", n.Type}, {"type_instance", n.TypeInstance}} {
		if o.v != "" {
			fmt.Fprintf(buf, " %s=%s", o.k, strconv.Quote(o.v))
		}
	}
	fmt.Fprintf(buf, " message=%s\n", strconv.Quote(msg))
}

// Notify writes n in a single Write call.
func (w *Writer) Notify(n Notification) error {
	return w.WriteAll(nil, []Notification{n})
}

// Field makes s fit one identifier field: sanitized and at most MaxField
// bytes, shortened the way Names shortens long names.
func Field(s string) string {
	return report.Fit(Sanitize(s), MaxField)
}
