package check

import (
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/model"
)

// queueSnaps are a broker queue's snapshots 5 s apart, each as c makes
// its figures.
func queueSnaps(n int, c func(i int) model.Consumer) []model.Snapshot {
	t0 := time.Unix(1796216400, 0)
	var ss []model.Snapshot
	for i := range n {
		q := c(i)
		q.Name, q.Initialized = "hungq", true
		ss = append(ss, model.Snapshot{Arrival: t0.Add(time.Duration(i) * 5 * time.Second), Period: 5 * time.Second, Session: 1,
			Consumers: []model.Consumer{q}})
	}
	return ss
}

// TestCheckStall: 1700 waiting, 3 consumers attached, none taken over a
// poll: a stall, at least WARNING whatever the wait thresholds, CRITICAL
// past the critical one, and said in words. A queue that served is not.
func TestCheckStall(t *testing.T) {
	three := model.Some(3)
	hung := queueSnaps(3, func(i int) model.Consumer {
		return model.Consumer{Backlog: model.Some(float64(1600 + 50*i)), InService: three, Workers: three,
			HeadcountIn: model.Some(50), HeadcountOut: model.Some(0)}
	})
	spec := Spec{Consumers: []string{"hungq"}, Wait: ranges(t, "60", "300")}
	res := evaluate(t, hung, spec)
	if res.Status != Warning || len(res.Problems) == 0 || !strings.Contains(res.Problems[0], "hungq is stalled: 1700 waiting, 3 consumers attached, nothing taken for 10 s") {
		t.Errorf("a stall of 10 s under a wait range of 60: %v %q", res.Status, res.Problems)
	}
	spec.Wait = ranges(t, "2", "5")
	if res := evaluate(t, hung, spec); res.Status != Critical {
		t.Errorf("a stall of 10 s past a critical wait of 5: %v %q", res.Status, res.Problems)
	}
	if res := evaluate(t, hung, Spec{Consumers: []string{"hungq"}}); res.Status != Warning {
		t.Errorf("a stall without wait thresholds: %v %q", res.Status, res.Problems)
	}
	// As a check polls a broker: its first poll has no counts yet; the
	// stall shows at the second.
	first := queueSnaps(2, func(i int) model.Consumer {
		c := model.Consumer{Backlog: model.Some(float64(1650 + 50*i)), InService: three, Workers: three}
		if i > 0 {
			c.HeadcountIn, c.HeadcountOut = model.Some(50), model.Some(0)
		}
		return c
	})
	if res := evaluate(t, first, spec); res.Status != Warning || !strings.Contains(res.Problems[0], "nothing taken for 5 s") {
		t.Errorf("two polls, the first without counts: %v %q", res.Status, res.Problems)
	}
	served := queueSnaps(3, func(i int) model.Consumer {
		return model.Consumer{Backlog: model.Some(1600), InService: three, Workers: three,
			HeadcountIn: model.Some(50), HeadcountOut: model.Some(50)}
	})
	if res := evaluate(t, served, Spec{Consumers: []string{"hungq"}}); res.Status != OK {
		t.Errorf("a queue served: %v %q", res.Status, res.Problems)
	}
}

// TestCheckWithheld: a broker that withholds its statistics gives a
// queue's lengths and nothing else: a check of its consumers or waits is
// UNKNOWN and names the source that has them, never OK.
func TestCheckWithheld(t *testing.T) {
	bare := queueSnaps(2, func(i int) model.Consumer {
		return model.Consumer{Backlog: model.Some(413), InService: model.Some(0)}
	})
	for _, spec := range []Spec{
		{Consumers: []string{"hungq"}, Workers: ranges(t, "", "1:")},
		{Consumers: []string{"hungq"}, Wait: ranges(t, "60", "")},
	} {
		res := evaluate(t, bare, spec)
		if res.Status != Unknown || len(res.Problems) == 0 || !strings.Contains(res.Problems[0], "--rabbitmq-prometheus") {
			t.Errorf("%+v: %v %q", spec, res.Status, res.Problems)
		}
	}
	// The backlog alone can still be checked.
	if res := evaluate(t, bare, Spec{Consumers: []string{"hungq"}, Backlog: ranges(t, "100", "")}); res.Status != Warning {
		t.Errorf("backlog 413 over 100: %v %q", res.Status, res.Problems)
	}
}

// TestCheckAgeUnknown: the oldest message's age asked for, where the
// messages waiting came before the check began and none is stalled:
// UNKNOWN, saying why, never OK.
func TestCheckAgeUnknown(t *testing.T) {
	busy := queueSnaps(2, func(i int) model.Consumer {
		return model.Consumer{Backlog: model.Some(float64(100 - 10*i)), InService: model.Some(3), Workers: model.Some(3),
			HeadcountIn: model.Some(40), HeadcountOut: model.Some(50)}
	})
	res := evaluate(t, busy, Spec{Consumers: []string{"hungq"}, Age: ranges(t, "30", "60")})
	if res.Status != Unknown || !strings.Contains(res.Problems[0], "the oldest message's age is not known yet") {
		t.Errorf("%v %q", res.Status, res.Problems)
	}
}
