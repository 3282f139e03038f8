#!/usr/bin/python3
"""The hold model in SimPy 2.3.1, the peer of `otasim-bench engine`.

P processes each hold for Exp(mean 1 hour) simulated seconds, forever: P events
pending at all times, each event schedules one more. After a warm-up of P events
the next N events are timed. Prints one JSON line like otasim-bench:
  {"bench":"engine","queue":"simpy","pending":P,"events":N,"events_per_s":X}

Run with Debian's interpreter (/usr/bin/python3): python3-simpy installs the
module `SimPy` there only.
"""
import argparse
import json
import random
import time

from SimPy.Simulation import Process, activate, hold, initialize, simulate, stopSimulation

MEAN_HOLD_S = 3600.0


class Clock:
    count = 0
    warm = 0
    target = 0
    t_start = None
    t_end = None


class Holder(Process):
    def run(self, rng):
        while True:
            yield hold, self, rng.expovariate(1.0 / MEAN_HOLD_S)
            Clock.count += 1
            if Clock.count == Clock.warm:
                Clock.t_start = time.perf_counter()
            elif Clock.count == Clock.target:
                Clock.t_end = time.perf_counter()
                stopSimulation()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pending", type=int, default=100000)
    ap.add_argument("--events", type=int, default=1000000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.pending < 1 or args.events < 1:
        ap.error("--pending and --events must be at least 1")
    rng = random.Random(args.seed)
    initialize()
    Clock.warm = args.pending
    Clock.target = args.pending + args.events
    for _ in range(args.pending):
        p = Holder()
        activate(p, p.run(rng))
    simulate(until=1e18)
    rate = args.events / (Clock.t_end - Clock.t_start)
    print(json.dumps({"bench": "engine", "queue": "simpy", "pending": args.pending,
                      "events": args.events, "events_per_s": round(rate)}))


if __name__ == "__main__":
    main()
