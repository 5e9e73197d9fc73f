package analytics

// Types (from collectd's stock types.db) and type instance suffixes of the
// derived values, written as HOST/SERVICE/TYPE-CONSUMER_SUFFIX. None of them
// can collide with the compatibility set's identifiers: where the type is
// shared, the suffixes end differently.
const (
	RateType        = "operations_per_second" // messages per second
	DurationType    = "duration"              // seconds
	TimeType        = "response_time"         // milliseconds
	UtilizationType = "gauge"                 // busy workers on average

	SuffixArrivalRate = "_arrival_rate" // smoothed headcount_in per second
	SuffixServiceRate = "_service_rate" // smoothed headcount_out per second
	SuffixGrowth      = "_growth_rate"  // arrival minus service rate, while the backlog grows
	SuffixWait        = "_wait"         // smoothed backlog / smoothed arrival rate
	SuffixDrain       = "_drain_time"   // backlog / (service minus arrival rate), while it shrinks
	SuffixP50         = "_p50"          // median processing time
	SuffixP95         = "_p95"
	SuffixP99         = "_p99"
	SuffixUtilization = "_utilization" // sum of processing times / interval
)
