#!/usr/bin/python3
"""The reference for replay throughput: what Fedora's per-daemon Python
collectd script computed and printed for each monitoring message, here read
as one JSON snapshot per line on stdin instead of from the hub's socket.

Per initialized consumer: backlog, exceptions, headcounts and the min, max
and mean processing time in milliseconds; per initialized producer its
exceptions. Run with Debian's /usr/bin/python3 (its json module is in C).

usage: reference.py HOST SERVICE < snapshots.jsonl > putval.txt
"""
import json
import sys


def main():
    host, service = sys.argv[1], sys.argv[2]
    out = sys.stdout
    prefix = "PUTVAL %s/%s/" % (host, service)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        msg = json.loads(line)
        for c in msg.get("consumers", []):
            if not c.get("initialized", True):
                continue
            name = c["name"]
            put = lambda typ, inst, value: out.write(
                "%s%s-%s_%s interval=5 N:%s\n" % (prefix, typ, name, inst, value))
            put("queue_length", "backlog", c["backlog"])
            put("gauge", "exceptions", c["exceptions"])
            if "headcount_in" in c:
                put("gauge", "in", c["headcount_in"])
                put("gauge", "out", c["headcount_out"])
            if "times" in c:
                times = c["times"] or [0]
                put("response_time", "min", 1000 * min(times))
                put("response_time", "max", 1000 * max(times))
                put("response_time", "avg", 1000 * sum(times) / len(times))
        for p in msg.get("producers", []):
            if p.get("initialized", True):
                out.write("%sgauge-%s_exceptions interval=5 N:%s\n" % (prefix, p["name"], p["exceptions"]))


if __name__ == "__main__":
    main()
