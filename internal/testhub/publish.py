"""A stand-in moksha hub for tests: binds a libzmq PUB socket and publishes
the given JSON files, one message per period, in a loop, exactly as they are
on disk (one frame, no topic), the way moksha's MonitoringProducer does.

usage: publish.py [--period SECONDS] [--delay SECONDS] [--count N] [--mode OCTAL] ENDPOINT FILE...
--mode sets the permissions of an ipc socket file, like moksha's
moksha.monitoring.socket.mode.
Prints "ready ENDPOINT" on stdout once bound (tcp://127.0.0.1:* binds a free
port and prints it).
"""
import argparse
import os
import signal
import sys
import time

import zmq


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--period", type=float, default=5.0)
    ap.add_argument("--count", type=int, default=0, help="stop after N messages (0: never)")
    ap.add_argument("--delay", type=float, default=0.0, help="wait this long before the first message, as moksha does")
    ap.add_argument("--mode", default="", help="chmod the ipc socket file (octal)")
    ap.add_argument("endpoint")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    bodies = []
    for f in a.files:
        with open(f, "rb") as fh:
            bodies.append(fh.read().strip())
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PUB)
    sock.setsockopt(zmq.LINGER, 0)
    sock.bind(a.endpoint)
    if a.mode and a.endpoint.startswith("ipc://") and not a.endpoint.startswith("ipc://@"):
        os.chmod(a.endpoint[len("ipc://"):], int(a.mode, 8))
    print("ready", sock.getsockopt(zmq.LAST_ENDPOINT).decode(), flush=True)
    time.sleep(a.delay)
    sent = 0
    while a.count == 0 or sent < a.count:
        sock.send(bodies[sent % len(bodies)])
        sent += 1
        time.sleep(a.period)


if __name__ == "__main__":
    main()
