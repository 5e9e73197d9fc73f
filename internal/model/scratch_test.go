package model

import (
	"os"
	"reflect"
	"testing"
	"time"
)

// TestSharedScratch: decoders that share their times' storage, used in
// turn, decode each message as a decoder of its own does.
func TestSharedScratch(t *testing.T) {
	var sc Scratch
	a, b := &Decoder{Shared: &sc}, &Decoder{Shared: &sc}
	at := time.Unix(1700000000, 0)
	for i, name := range []string{"ipc-01", "ipc-06", "tcp-01", "ipc-12"} {
		data, err := os.ReadFile("testdata/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		dec := a
		if i%2 == 1 {
			dec = b
		}
		got, err := dec.Decode(data, at)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Decode(data, at)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: a shared decoder's snapshot differs from Decode's", name)
		}
		if len(a.own.times) != 0 || len(b.own.times) != 0 || cap(a.own.times) != 0 {
			t.Errorf("%s: a decoder kept storage of its own", name)
		}
	}
	if cap(sc.times) == 0 {
		t.Error("no storage kept in the shared scratch")
	}
}
