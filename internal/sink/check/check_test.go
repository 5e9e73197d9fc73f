package check

import (
	"bytes"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fedora-infra/fedmsg-collectd/internal/analytics"
	"github.com/fedora-infra/fedmsg-collectd/internal/model"
	"github.com/fedora-infra/fedmsg-collectd/internal/pipeline"
	"github.com/fedora-infra/fedmsg-collectd/internal/report"
)

func fixture(t *testing.T, name string) model.Snapshot {
	t.Helper()
	data, err := os.ReadFile("../../model/testdata/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := model.Decode(data, time.Unix(1795516130, 0))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// evaluate runs snaps through the pipeline's decode-and-derive stage, as
// run does, and checks the last.
func evaluate(t *testing.T, snaps []model.Snapshot, spec Spec) Result {
	t.Helper()
	hs := pipeline.NewHubs(analytics.DefaultSmoothing, nil)
	var b report.Batch
	for _, s := range snaps {
		var err error
		b, err = hs.Add(model.Message{Endpoint: model.Endpoint{Service: "fedmsg-hub"}, Snapshot: &s, Arrival: s.Arrival, Period: s.Period, Session: s.Session})
		if err != nil {
			t.Fatal(err)
		}
	}
	return Evaluate(b, spec)
}

func ranges(t *testing.T, warn, crit string) Thresholds {
	t.Helper()
	var th Thresholds
	var err error
	if warn != "" {
		if th.Warn, err = ParseRange(warn); err != nil {
			t.Fatal(err)
		}
	}
	if crit != "" {
		if th.Crit, err = ParseRange(crit); err != nil {
			t.Fatal(err)
		}
	}
	return th
}

// TestEvaluate: per scenario, the exact output and status, including the
// old Fedora checks.
func TestEvaluate(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		spec    Spec
		want    string
		status  Status
	}{
		{
			name: "old FMNConsumer backlog check, fine", fixture: "ipc-06",
			spec: Spec{Consumers: []string{"FMNConsumer"}, Backlog: ranges(t, "15000", "20000")},
			want: "FEDMSG OK - FMNConsumer: backlog 188, exceptions 0 | 'FMNConsumer_backlog'=188;15000;20000;0; 'FMNConsumer_exceptions'=0;;;0;\n" +
				"FMNConsumer: backlog 188, exceptions 0\n",
		},
		{
			name: "backlog warning", fixture: "ipc-06",
			spec: Spec{Consumers: []string{"FMNConsumer"}, Backlog: ranges(t, "100", "200")},
			want: "FEDMSG WARNING - FMNConsumer backlog 188 (warning above 100) | 'FMNConsumer_backlog'=188;100;200;0; 'FMNConsumer_exceptions'=0;;;0;\n" +
				"FMNConsumer: backlog 188, exceptions 0\n",
			status: Warning,
		},
		{
			name: "old exceptions check 1/10 on every consumer", fixture: "ipc-01",
			spec: Spec{Consumers: []string{All}, Exceptions: ranges(t, "1", "10")},
			want: "FEDMSG CRITICAL - FlakyConsumer exceptions 25 (critical above 10) | " +
				"'FedoraBadgesConsumer_backlog'=0;;;0; 'FedoraBadgesConsumer_exceptions'=0;1;10;0; " +
				"'SummerShumConsumer_backlog'=9;;;0; 'SummerShumConsumer_exceptions'=0;1;10;0; " +
				"'FMNConsumer_backlog'=49;;;0; 'FMNConsumer_exceptions'=0;1;10;0; " +
				"'FlakyConsumer_backlog'=0;;;0; 'FlakyConsumer_exceptions'=25;1;10;0;\n" +
				"FedoraBadgesConsumer: backlog 0, exceptions 0\nSummerShumConsumer: backlog 9, exceptions 0\n" +
				"FMNConsumer: backlog 49, exceptions 0\nFlakyConsumer: backlog 0, exceptions 25\n",
			status: Critical,
		},
		{
			name: "presence: missing is UNKNOWN by default", fixture: "ipc-12",
			spec: Spec{Consumers: []string{"FMNConsumer", "GoneConsumer"}, Producers: []string{"DigestProducer"}},
			want: "FEDMSG UNKNOWN - consumer GoneConsumer not found, producer DigestProducer not found | 'FMNConsumer_backlog'=0;;;0; 'FMNConsumer_exceptions'=0;;;0;\n" +
				"FMNConsumer: backlog 0, exceptions 0\nGoneConsumer: not found\nDigestProducer: not found\n",
			status: Unknown,
		},
		{
			name: "presence: missing as CRITICAL", fixture: "ipc-12",
			spec: Spec{Consumers: []string{"GoneConsumer"}, Missing: Critical},
			want: "FEDMSG CRITICAL - consumer GoneConsumer not found\nGoneConsumer: not found\n", status: Critical,
		},
		{
			name: "p95 of processing times", fixture: "ipc-06",
			spec: Spec{Consumers: []string{"FMNConsumer"}, P95: ranges(t, "40", "100")},
			want: "FEDMSG WARNING - FMNConsumer processing time p95 50.1 ms (warning above 40) | 'FMNConsumer_backlog'=188;;;0; 'FMNConsumer_exceptions'=0;;;0; 'FMNConsumer_p95'=50.144ms;40;100;0;\n" +
				"FMNConsumer: backlog 188, exceptions 0, p95 50.1 ms\n",
			status: Warning,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := evaluate(t, []model.Snapshot{fixture(t, tt.fixture)}, tt.spec)
			var buf bytes.Buffer
			res.Write(&buf)
			if res.Status != tt.status {
				t.Errorf("status %v, want %v", res.Status, tt.status)
			}
			if buf.String() != tt.want {
				t.Errorf("output:\n%s\nwant:\n%s", buf.String(), tt.want)
			}
		})
	}
}

// TestLastRan: the old 90/600 s check on ipc-06's producers, whose polls
// started at 1795516124.01 (MonitoringProducer), 1795516102.01 (FlakyProducer,
// stuck) and never (LazyProducer, polling every 60 s).
func TestLastRan(t *testing.T) {
	spec := Spec{Producers: []string{"MonitoringProducer", "FlakyProducer", "LazyProducer"}, LastRan: ranges(t, "90", "600")}
	for _, tt := range []struct {
		now  float64
		want string
		st   Status
	}{
		{1795516130, "FEDMSG UNKNOWN - producer LazyProducer has not run yet | 'MonitoringProducer_last_ran'=5.989s;90;600;0; 'FlakyProducer_last_ran'=27.99s;90;600;0;\n" +
			"MonitoringProducer: exceptions 0, last ran 6 s ago\nFlakyProducer: exceptions 1, last ran 28 s ago\nLazyProducer: exceptions 0, has not run yet\n", Unknown},
		{1795516200, "FEDMSG WARNING - FlakyProducer last ran 98 s (warning above 90), producer LazyProducer has not run yet | 'MonitoringProducer_last_ran'=75.989s;90;600;0; 'FlakyProducer_last_ran'=97.99s;90;600;0;\n" +
			"MonitoringProducer: exceptions 0, last ran 76 s ago\nFlakyProducer: exceptions 1, last ran 98 s ago\nLazyProducer: exceptions 0, has not run yet\n", Warning},
		{1795516710, "FEDMSG CRITICAL - FlakyProducer last ran 608 s (critical above 600), MonitoringProducer last ran 586 s (warning above 90), producer LazyProducer has not run yet | 'MonitoringProducer_last_ran'=585.989s;90;600;0; 'FlakyProducer_last_ran'=607.99s;90;600;0;\n" +
			"MonitoringProducer: exceptions 0, last ran 586 s ago\nFlakyProducer: exceptions 1, last ran 608 s ago\nLazyProducer: exceptions 0, has not run yet\n", Critical},
	} {
		// The age is measured to the snapshot's arrival.
		s := fixture(t, "ipc-06")
		s.Arrival = time.Unix(int64(tt.now), 0)
		res := evaluate(t, []model.Snapshot{s}, spec)
		var buf bytes.Buffer
		res.Write(&buf)
		if res.Status != tt.st || buf.String() != tt.want {
			t.Errorf("now %v: status %v, output:\n%s\nwant %v:\n%s", tt.now, res.Status, buf.String(), tt.st, tt.want)
		}
	}
}

func TestWorse(t *testing.T) {
	order := []Status{OK, Unknown, Warning, Critical}
	for i, a := range order {
		for j, b := range order {
			want := order[max(i, j)]
			if got := Worse(a, b); got != want {
				t.Errorf("Worse(%v, %v) = %v, want %v", a, b, got, want)
			}
		}
	}
}

func TestPerfLabelQuoting(t *testing.T) {
	r, _ := ParseRange("10")
	p := Perf{Label: "it's odd", Value: 1.23456, UOM: "ms", Warn: r}
	if got, want := p.String(), "'it''s odd'=1.235ms;10;;0;"; got != want {
		t.Errorf("%s, want %s", got, want)
	}
	if !strings.HasPrefix(Fail("x %d", 1).Problems[0], "x 1") {
		t.Error("Fail")
	}
}

// TestWaitAndDrain: from two snapshots 5 s apart, the expected wait and
// the drain time against their thresholds; a growing backlog never drains.
func TestWaitAndDrain(t *testing.T) {
	t0 := time.Unix(1795516100, 0)
	snap := func(at, backlog float64) model.Snapshot {
		times := make([]float64, 50)
		for i := range times {
			times[i] = 0.1 // one worker busy all 5 s
		}
		return model.Snapshot{Arrival: t0.Add(time.Duration(at * float64(time.Second))), Period: 5 * time.Second, Session: 1,
			Consumers: []model.Consumer{{Name: "C", Initialized: true, Backlog: model.Some(backlog), Exceptions: model.Some(0),
				HeadcountIn: model.Some(10), HeadcountOut: model.Some(50), Times: times, HasTimes: true}}}
	}
	rng := func(s string) Range {
		r, err := ParseRange(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	spec := Spec{Consumers: []string{"C"}, Wait: Thresholds{Warn: rng("4"), Crit: rng("60")}, Drain: Thresholds{Crit: rng("3")}}
	if spec.Snapshots() != 2 {
		t.Fatalf("wait and drain thresholds need %d snapshots, want 2", spec.Snapshots())
	}
	// 100 -> 50 in 5 s: 50 messages of 0.1 s ahead (5 s), drained in 5 s.
	var out strings.Builder
	res := evaluate(t, []model.Snapshot{snap(0, 100), snap(5, 50)}, spec)
	res.Write(&out)
	for _, want := range []string{"FEDMSG CRITICAL - C drain time 5 s (critical", "C expected wait 5 s (warning", "'C_expected_wait'=5s;4;60;0;", "'C_drain_time'=5s;;3;0;"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
	// 50 -> 100: growing, for ever to drain.
	out.Reset()
	evaluate(t, []model.Snapshot{snap(0, 50), snap(5, 100)}, spec).Write(&out)
	if !strings.HasPrefix(out.String(), "FEDMSG CRITICAL - C backlog grows by 10 msg/s (critical") {
		t.Errorf("growing backlog:\n%s", out.String())
	}
	// One snapshot: no expected wait known yet, no drain time; OK.
	out.Reset()
	if res := evaluate(t, []model.Snapshot{snap(0, 100)}, spec); res.Status != OK {
		res.Write(&out)
		t.Errorf("one snapshot: %s", out.String())
	}
}

// TestHostileValues: what a hub sends cannot break the output: a last_ran
// far in the future or the past, names with line breaks, '|', '=' and
// quotes, processing times too large to print.
func TestHostileValues(t *testing.T) {
	now := time.Unix(1795516100, 0)
	s := model.Snapshot{Arrival: now,
		Consumers: []model.Consumer{{Name: "bad\nname|x='y'", Initialized: true, Backlog: model.Some(1), Exceptions: model.Some(0),
			Times: []float64{math.MaxFloat64, math.MaxFloat64}, HasTimes: true}},
		Producers: []model.Producer{
			{Name: "Future", Initialized: true, Exceptions: model.Some(0), LastRan: model.Some(1e10)},
			{Name: "Ancient", Initialized: true, Exceptions: model.Some(2), LastRan: model.Some(1)},
		}}
	rng := func(s string) Range {
		r, err := ParseRange(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	spec := Spec{Consumers: []string{All}, Producers: []string{"Future", "Ancient"},
		P95: Thresholds{Warn: rng("1000")}, LastRan: Thresholds{Crit: rng("600")}, ProducerExceptions: Thresholds{Crit: rng("0")}}
	var out strings.Builder
	evaluate(t, []model.Snapshot{s}, spec).Write(&out)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	first := lines[0]
	for _, want := range []string{
		"FEDMSG CRITICAL - ",
		"Ancient exceptions 2 (critical above 0)",
		"Ancient last ran 1795516099 s (critical above 600)",
		"'bad_name_x_''y''_p95'=U;1000;;0;",
		"'Future_last_ran'=0s;;600;0;",
	} {
		if !strings.Contains(first, want) {
			t.Errorf("no %q in the status line %q", want, first)
		}
	}
	if strings.Count(first, "|") != 1 || len(lines) != 4 {
		t.Errorf("the names broke the output:\n%s", out.String())
	}
}

// TestRangeSyntax: only the guidelines' numbers are accepted.
func TestRangeSyntax(t *testing.T) {
	for _, bad := range []string{"0x1p4", "1_0", "1e3", "Inf", "NaN", ".", "-", "1.2.3", "+", "10:0x10", "~:1_0"} {
		if r, err := ParseRange(bad); err == nil {
			t.Errorf("ParseRange(%q) = %+v, want an error", bad, r)
		}
	}
	for _, good := range []string{"10", "-1.5:2", "+3", ".5", "5.", "~:10", "@1:2", "10:"} {
		if _, err := ParseRange(good); err != nil {
			t.Errorf("ParseRange(%q): %v", good, err)
		}
	}
}
