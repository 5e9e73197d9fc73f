package putval

import (
	"fmt"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// MaxField is the longest identifier field, in bytes, that collectd keeps
// whole (DATA_MAX_NAME_LEN is 128 including the terminating NUL).
const MaxField = model.MaxServiceField

// MaxName is the longest consumer or producer name, in bytes, that Names
// returns: report.MaxName.
const MaxName = report.MaxName

// Sanitize makes a name safe inside a collectd identifier field: the rule
// of report.Sanitize.
func Sanitize(s string) string { return report.Sanitize(s) }

// Names maps consumer or producer names, in the order the hub listed them, to
// distinct names fit for an identifier field: report.FieldNames, the rule
// the check's performance data labels share.
func Names(names []string) []string { return report.FieldNames(names) }

// Host makes a host name safe for the host field: sanitized like a consumer
// name and at most MaxField bytes.
func Host(s string) string {
	return report.Fit(Sanitize(s), MaxField)
}

// HostOf is the host field: the flag's value, else COLLECTD_HOSTNAME, else
// the machine's name; sanitized.
func HostOf(flagValue string, getenv func(string) string, hostname func() (string, error)) (string, error) {
	h := flagValue
	if h == "" {
		h = getenv("COLLECTD_HOSTNAME")
	}
	if h == "" {
		var err error
		if h, err = hostname(); err != nil {
			return "", fmt.Errorf("no --hostname, no COLLECTD_HOSTNAME, and %w", err)
		}
	}
	return Host(h), nil
}
