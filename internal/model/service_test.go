package model

import (
	"strings"
	"testing"
)

func TestCheckService(t *testing.T) {
	// One rule for every source: a broker NAME with a space is refused too.
	for _, ok := range []string{"fedmsg-hub", "fedmsg-hub-3", "moksha-hub", "relay", "fedmsg-127_0_0_1_3000"} {
		if err := CheckService(ok); err != nil {
			t.Errorf("CheckService(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a/b", "a b", `a"b`, "-hub", "x\n", "my broker-default", SelfService, strings.Repeat("p", 128) + "-i"} {
		if err := CheckService(bad); err == nil {
			t.Errorf("CheckService(%q) accepted", bad)
		}
	}
}
