#!/usr/bin/python3
"""The reduced fleet model of scenarios/simpy-peer.json in SimPy 2.3.1, the peer of `otasim run`.

One SimPy Process per device, with the semantics of models/src/fleet/fleet_model.cpp
for the subset of the scenario format that the peer scenario uses:

  - the rollout offers the release to the whole fleet at rollout.start_h (one
    stage at 100 %, no gate), before any device polls;
  - a device's first poll is uniform in [0, interval) (polling.synchronized_start
    false); it then polls every interval x U(1 - jitter, 1 + jitter). Its first
    poll after the offer finds the update (no server limits, no maintenance
    windows, so nothing is refused or queued);
  - the download of the full image over a fixed-rate link (sigma 0, no drops, no
    power loss) streams into the inactive A/B slot: it lasts
    max(latency + bytes x 8 / rate, flash erase + program time);
  - the verified image is set pending and the device reboots (boot_s). Each
    trial boot of the new image fails with boot_failure_probability, or always
    on a failing device (one fixed draw per device with failing_device_share);
    the watchdog reboots it (boot_s again). After trial_boot_limit failed trial
    boots the bootloader's next boot (boot_s) rolls back to the old slot: the
    device is rolled back and done;
  - a trial that boots runs health.report_after_min and reports healthy: the
    device is updated and done.

A device that is done stops: its later polls find nothing to do and change no
count in the adoption curve (otasim accounts such idle polls in aggregate, as
server load, not as events), so by default the peer does not simulate them.
With --idle-polls it does: every device goes on polling, one jittered interval
after it finished and so on, to the horizon, and the total of server requests
(check-ins plus idle polls) is reported, the peer of otasim's server_requests.

Parameters come from the scenario file, so both sides model the same numbers;
fields the peer does not model must have the values that switch them off, or
the script refuses the file. Prints one JSON object on stdout: per bin (the
state at each bin's end, like series.csv) the devices updated and rolled back,
the totals, the number of holds simulated and the wall time of the model (set-up
plus simulation, not the interpreter's start-up or the import of SimPy). The
cyclic garbage collector is off while the model runs (it frees nothing here and
costs about 25 % of the time), so that the peer is timed at its fastest.

Run with Debian's interpreter (/usr/bin/python3): python3-simpy installs the
module `SimPy` there only.
"""
import argparse
import bisect
import gc
import json
import math
import os
import random
import sys
import time

from SimPy.Simulation import Process, activate, hold, initialize, now, simulate

# Built-in link profiles (models/src/fleet/links.cpp): only the fields the peer uses.
BUILTIN_LINKS = {
    "wifi": {"median_kbps": 5000, "sigma": 0.7, "min_kbps": 250, "max_kbps": 20000, "latency_s": 0.02,
             "drop_per_mb": 0.002, "wake_interval_s": 0},
    "ethernet": None, "nbiot": None, "ltem": None, "lte_cat1": None,
}


def fail(msg):
    sys.exit("simpy_fleet: %s: %s" % (Params.path, msg))


class Params:
    path = ""


def load(path, devices):
    """The scenario's numbers, with the loader's defaults (scenarios/README.md)."""
    Params.path = path
    with open(path) as f:
        s = json.load(f)
    p = Params()
    p.seed = s.get("seed", 1)
    p.horizon_s = s["horizon_h"] * 3600.0
    p.bin_s = s.get("bin_minutes", 60) * 60.0
    p.devices = devices if devices is not None else s["fleet"]["devices"]

    classes = s["fleet"]["classes"]
    if len(classes) != 1:
        fail("the peer models one device class")
    c = classes[0]
    if c.get("power") != "mains" or c.get("partitioning", "ab") != "ab":
        fail("the peer models mains A/B devices")
    if c.get("power_loss_per_hour", 1.3e-4) != 0:
        fail("the peer models no power loss: set power_loss_per_hour to 0")
    if c.get("notify", "poll") != "poll" or c.get("source", "origin") != "origin":
        fail("the peer models polling devices served by the origin")

    hw = [h for h in s["hardware"] if h["name"] == c["hardware"]][0]
    p.trial_boot_limit = hw.get("trial_boot_limit", 3)
    p.boot_s = float(hw.get("boot_s", 5))
    flash = hw.get("flash", {})
    sector = flash.get("sector_bytes", 4096)
    erase_s = flash.get("erase_ms_per_sector", 45) / 1000.0
    program_s_per_kib = flash.get("program_ms_per_kb", 1.6) / 1000.0

    links = s.get("links", {})
    name = c["link"]
    if name in links:
        o = links[name]
        base = BUILTIN_LINKS.get(o.get("base", name))
    else:
        o, base = {}, BUILTIN_LINKS.get(name)
    if base is None:
        fail("the peer knows the built-in wifi profile only, as a base")
    link = dict(base)
    link.update({k: v for k, v in o.items() if k in link})
    if link["sigma"] != 0 and not (link["min_kbps"] == link["max_kbps"]):
        fail("the peer models a fixed link rate: sigma 0 or min_kbps = max_kbps")
    if link["drop_per_mb"] != 0 or link["wake_interval_s"] != 0:
        fail("the peer models no transfer drops and no wake interval")
    rate_bps = min(max(link["median_kbps"], link["min_kbps"]), link["max_kbps"]) * 1000.0
    if link["sigma"] != 0:
        rate_bps = link["min_kbps"] * 1000.0

    rel = s["release"]
    if rel.get("payload", "full") != "full" or "images" in rel:
        fail("the peer models a full image given by full_kb")
    if rel.get("corruption_per_transfer", 0) != 0 or rel.get("tamper_per_transfer", 0) != 0:
        fail("the peer models no corruption or tampering")
    if rel.get("to_security_counter", 2) < rel.get("from_security_counter", 1):
        fail("the agent would refuse this release")
    image_bytes = int(round(rel["full_kb"] * 1000))
    beh = dict(rel.get("behaviour", {}).get("default", {}))
    beh.update(rel.get("behaviour", {}).get(hw["name"], {}))
    if beh.get("crash_per_day", 0) != 0:
        fail("the peer models no crashes")
    p.boot_failure = beh.get("boot_failure_probability", 0.0)
    p.failing_share = beh.get("failing_device_share", 0.0)

    flash_s = math.ceil(image_bytes / sector) * erase_s + image_bytes / 1024.0 * program_s_per_kib
    p.download_s = max(link["latency_s"] + image_bytes * 8.0 / rate_bps, flash_s)

    pol = s.get("polling", {})
    if pol.get("synchronized_start", False):
        fail("the peer models uniform first-poll phases")
    p.interval_s = pol.get("interval_min", 60) * 60.0
    p.jitter = pol.get("jitter", 0.1)

    srv = s.get("server", {})
    if any(srv.get(k, 0) != 0 for k in ("max_requests_per_s", "max_concurrent_downloads", "bandwidth_mbps",
                                        "queue_limit")):
        fail("the peer models a server without limits")
    if "delivery" in s:
        fail("the peer models origin delivery only")

    ro = s.get("rollout", {})
    stages = ro.get("stages", [{"percent": 100}])
    if len(stages) != 1 or stages[0].get("percent") != 100 or ro.get("gate") or stages[0].get("gate") \
            or "ramp" in ro or ro.get("maintenance_windows") or ro.get("device_timeout_h", 0) \
            or ro.get("max_attempts", 0):
        fail("the peer models one stage at 100 %, no gate, window, timeout or attempt limit")
    p.start_s = ro.get("start_h", 0) * 3600.0
    p.report_s = s.get("health", {}).get("report_after_min", 10) * 60.0
    return p


class Log:
    updated = []      # times a device reported healthy on the new image
    rolled_back = []  # times the agent rolled a device back
    trial_failures = 0
    holds = 0
    requests = 0      # server requests: update check-ins, and idle polls with --idle-polls


class Device(Process):
    def run(self, p, rng, idle_polls):
        failing = p.failing_share > 0 and rng.random() < p.failing_share
        # Polls until the first one at or after the offer.
        t_poll = rng.random() * p.interval_s
        holds = 1
        yield hold, self, t_poll
        while t_poll < p.start_s:
            Log.requests += 1
            dt = p.interval_s * (rng.uniform(1 - p.jitter, 1 + p.jitter) if p.jitter > 0 else 1.0)
            t_poll += dt
            holds += 1
            yield hold, self, dt
        Log.requests += 1
        # Download into the inactive slot, verified; set pending, reboot.
        yield hold, self, p.download_s
        trials_left = p.trial_boot_limit
        holds += 1
        while True:
            yield hold, self, p.boot_s
            holds += 1
            if trials_left == 0:
                Log.rolled_back.append(now())
                break
            trials_left -= 1
            if (rng.random() < p.boot_failure) or failing:
                Log.trial_failures += 1
                continue  # the watchdog resets; the bootloader counts the trial
            yield hold, self, p.report_s
            holds += 1
            Log.updated.append(now())
            break
        Log.holds += holds
        # Done: the next poll one jittered interval on, and so on (idle polls).
        while idle_polls:
            dt = p.interval_s * (rng.uniform(1 - p.jitter, 1 + p.jitter) if p.jitter > 0 else 1.0)
            Log.holds += 1
            yield hold, self, dt
            Log.requests += 1


def curve(times, edges):
    times = sorted(times)
    return [bisect.bisect_right(times, e) for e in edges]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default=None, help="scenario file (default scenarios/simpy-peer.json)")
    ap.add_argument("--devices", type=int, default=None, help="fleet size (default: the scenario's)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: the scenario's)")
    ap.add_argument("--idle-polls", action="store_true",
                    help="devices that are done go on polling to the horizon (otasim's server_requests)")
    args = ap.parse_args()
    path = args.scenario
    if path is None:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scenarios", "simpy-peer.json")
    p = load(path, args.devices)
    if p.devices < 1:
        ap.error("--devices must be at least 1")
    seed = args.seed if args.seed is not None else p.seed

    # SimPy at its best: the cyclic garbage collector finds nothing to free in
    # this model but costs about a quarter of the run time (100k processes).
    gc.disable()
    t0 = time.perf_counter()
    rng = random.Random(seed)
    initialize()
    for _ in range(p.devices):
        d = Device()
        activate(d, d.run(p, rng, args.idle_polls))
    simulate(until=p.horizon_s)
    wall = time.perf_counter() - t0
    gc.enable()

    bins = int(math.ceil(p.horizon_s / p.bin_s - 1e-9))
    # The state at each bin's end (the last bin ends at the horizon).
    edges = [min((b + 1) * p.bin_s, p.horizon_s) for b in range(bins)]
    # Events at exactly a bin's end belong to the next bin (otasim snapshots before them).
    eps_edges = [math.nextafter(e, 0) if e < p.horizon_s else e for e in edges]
    up = curve([t for t in Log.updated if t <= p.horizon_s], eps_edges)
    rb = curve([t for t in Log.rolled_back if t <= p.horizon_s], eps_edges)
    done = len(Log.updated) + len(Log.rolled_back)
    print(json.dumps({
        "model": "simpy", "scenario": os.path.normpath(path), "devices": p.devices, "seed": seed,
        "bin_s": p.bin_s, "t_s": [b * p.bin_s for b in range(bins)],
        "updated": up, "rolled_back": rb,
        "totals": {"updated": up[-1], "rolled_back": rb[-1], "in_progress": p.devices - done,
                   "trial_boot_failures": Log.trial_failures,
                   **({"server_requests": Log.requests} if args.idle_polls else {})},
        "holds": Log.holds, "download_s": p.download_s, "wall_s": wall,
    }))


if __name__ == "__main__":
    main()
