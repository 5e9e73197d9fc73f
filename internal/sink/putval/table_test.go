package putval

import (
	"testing"

	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

// TestTableCoversCatalogue fails when a kind of the catalogue has no
// collectd name and is not left out on purpose, or when two kinds of the
// same scope would write the same identifier.
func TestTableCoversCatalogue(t *testing.T) {
	seen := map[[3]string]report.Kind{}
	for _, k := range report.Kinds() {
		id := identOf(k)
		if notWritten(k) {
			if id.typ != "" {
				t.Errorf("kind %v is both written (%s-%s) and left out", k, id.typ, id.instance)
			}
			continue
		}
		if id.typ == "" {
			t.Errorf("kind %v has no collectd identifier", k)
			continue
		}
		key := [3]string{string(rune('0' + k.Scope())), id.typ, id.instance}
		if k == report.ProducerExceptions {
			continue // shares the consumers' "_exceptions" on purpose: the old script's
		}
		if prev, dup := seen[key]; dup {
			t.Errorf("kinds %v and %v both write %s-%s", prev, k, id.typ, id.instance)
		}
		seen[key] = k
	}
}
