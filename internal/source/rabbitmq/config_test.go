package rabbitmq

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAuthFileWarning: an auth file every user may read is warned about;
// one only its group may read is not.
func TestAuthFileWarning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth")
	os.WriteFile(path, []byte("mon:s3cret\n"), 0o600)
	for mode, warned := range map[os.FileMode]bool{0o644: true, 0o640: false} {
		os.Chmod(path, mode)
		var log strings.Builder
		c := Config{URLs: []string{"http://127.0.0.1:15672"}, AuthFile: path, Interval: 10 * time.Second}
		srcs, err := c.Sources(slogTo(&log))
		if err != nil || srcs[0].User != "mon" || srcs[0].Password != "s3cret" {
			t.Fatalf("mode %o: %v %+v", mode, err, srcs)
		}
		if got := strings.Contains(log.String(), "readable by every user"); got != warned || strings.Contains(log.String(), "s3cret") {
			t.Errorf("mode %o: logged %q", mode, log.String())
		}
	}
}

// TestFlagErrorsHideCredentials: a URL refused at start is echoed without
// its user and password.
func TestFlagErrorsHideCredentials(t *testing.T) {
	for _, u := range []string{"mon:s3cret@127.0.0.1:15672", "ftp://mon:s3cret@host/", "b=mon:s3cret@host"} {
		c := Config{URLs: []string{u}, Interval: 10 * time.Second}
		_, err := c.Sources(nil)
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: %v", u, err)
		}
	}
}

// TestCountRest: the entries past the cap are counted without decoding
// them, strings and nesting notwithstanding.
func TestCountRest(t *testing.T) {
	for in, want := range map[string]int{
		`]`:        0,
		` ]`:       0,
		`{"a":1}]`: 1,
		`{"a":[1,2,{"b":"],"}]},{"x":"\"]"} , 3 ,"s"]`: 4,
		`{"a":"\\"}, {"b":"\\\\"}]tail`:                2,
	} {
		if got, err := countRest(strings.NewReader(in)); err != nil || got != want {
			t.Errorf("countRest(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := countRest(strings.NewReader(`{"a":1},{"b"`)); err == nil {
		t.Error("an unterminated list: no error")
	}
}

// TestPrometheusClusters: the URLs of one NAME are one source whose
// nodes they are; a NAME of a management source too, or a URL twice, is
// refused.
func TestPrometheusClusters(t *testing.T) {
	c := Config{PromURLs: []string{"http://a:15692", "http://b:15692", "other=http://c:15692"}, Interval: 10 * time.Second}
	srcs, err := c.Sources(nil)
	if err != nil || len(srcs) != 2 {
		t.Fatalf("%v, %d sources", err, len(srcs))
	}
	if srcs[0].Name != DefaultName || len(srcs[0].Nodes) != 2 || srcs[1].Name != "other" || len(srcs[1].Nodes) != 1 {
		t.Errorf("%s %v, %s %v", srcs[0].Name, srcs[0].Nodes, srcs[1].Name, srcs[1].Nodes)
	}
	if got := srcs[0].Endpoint(); got != "http://a:15692 (and 1 more node)" {
		t.Errorf("endpoint %q", got)
	}
	for _, bad := range []Config{
		{URLs: []string{"http://a:15672"}, PromURLs: []string{"http://a:15692"}},
		{PromURLs: []string{"http://a:15692", "http://a:15692"}},
		{PromURLs: []string{"x=ftp://a"}},
	} {
		bad.Interval = 10 * time.Second
		if _, err := bad.Sources(nil); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}
