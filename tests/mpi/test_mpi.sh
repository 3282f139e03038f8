#!/usr/bin/env bash
# otasim-mpi against otasim: the same commands and seeds give byte-identical
# files on 2 ranks as in one process, exit statuses included.
# Usage: test_mpi.sh BIN_DIR SOURCE_DIR
set -euo pipefail
bin=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
mpirun=(mpirun -np 2 --oversubscribe --allow-run-as-root)
fail() { echo "FAIL: $*" >&2; exit 1; }
same() { cmp -s "$1" "$2" || fail "$1 and $2 differ"; echo "same: $1 $2"; }

"$bin/otasim-mpi" self-test "$src/scenarios/default.json" --devices 2000

# run --replications: summary, per-replication CSV and replication 0's series
"${mpirun[@]}" "$bin/otasim-mpi" run "$src/scenarios/default.json" --devices 5000 --replications 5 --out mpi-run >/dev/null
"$bin/otasim" run "$src/scenarios/default.json" --devices 5000 --replications 5 --threads 1 --out one-run >/dev/null
for f in summary.json replications.csv series.csv; do same "mpi-run/$f" "one-run/$f"; done

# sweep: one CSV
"${mpirun[@]}" "$bin/otasim-mpi" sweep "$src/scenarios/default.json" --devices 3000 \
  --param /release/full_kb=500,1000 --param /polling/interval_min=30,60 --replications 3 --out mpi-sweep.csv >/dev/null
"$bin/otasim" sweep "$src/scenarios/default.json" --devices 3000 \
  --param /release/full_kb=500,1000 --param /polling/interval_min=30,60 --replications 3 --threads 1 --out one-sweep.csv >/dev/null
same mpi-sweep.csv one-sweep.csv

# check: the same verdicts, exit status and JUnit, passing and failing
"${mpirun[@]}" "$bin/otasim-mpi" check "$src/scenarios/regression/revision-boot-failure.json" --replications 6 \
  --junit mpi-check.xml >mpi-check.txt
"$bin/otasim" check "$src/scenarios/regression/revision-boot-failure.json" --replications 6 --threads 1 \
  --junit one-check.xml >one-check.txt
same mpi-check.xml one-check.xml
same mpi-check.txt one-check.txt
python3 - "$src/scenarios/regression/revision-boot-failure.json" nogate.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["rollout"]["stages"][0]["gate"] = None
json.dump(d, open(sys.argv[2], "w"))
PY
set +e
"${mpirun[@]}" "$bin/otasim-mpi" check nogate.json --replications 4 --junit mpi-fail.xml >/dev/null; mpi_status=$?
"$bin/otasim" check nogate.json --replications 4 --junit one-fail.xml >/dev/null; one_status=$?
set -e
[ "$mpi_status" = 1 ] || fail "otasim-mpi check exited $mpi_status on a failing expectation (expected 1)"
[ "$one_status" = 1 ] || fail "otasim check exited $one_status on a failing expectation (expected 1)"
same mpi-fail.xml one-fail.xml
echo "otasim-mpi: byte-identical to otasim on 2 ranks"

# shard: one replication's devices split over 2 ranks gives the totals of 1
# rank (counts exactly, amounts to 1e-9; the busiest second is an upper bound
# when merged) and the same rollout decisions.
for sc in regression/revision-boot-failure regression/crash-regression regression/good-release; do
  for np in 1 2; do
    mpirun -np $np --oversubscribe --allow-run-as-root "$bin/otasim-mpi" shard "$src/scenarios/$sc.json" \
      --devices 30000 --out "shard$np" --json > "shard$np.json"
  done
  python3 - shard1.json shard2.json "$sc" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
bad = []
for k, x in a["totals"].items():
    y = b["totals"][k]
    if k == "peak_requests_per_s":
        continue
    if isinstance(x, float) and isinstance(y, float):
        if abs(x - y) > 1e-9 * max(abs(x), 1.0):
            bad.append((k, x, y))
    elif x != y:
        bad.append((k, x, y))
if a["rollout"] != b["rollout"]:
    bad.append(("rollout", a["rollout"]["state"], b["rollout"]["state"]))
if bad:
    sys.exit("FAIL: shard totals differ between 1 and 2 ranks for %s: %s" % (sys.argv[3], bad))
print("same totals and rollout on 1 and 2 ranks: %s (%s, %d updated)" % (sys.argv[3], a["rollout"]["state"], a["totals"]["updated"]))
PY
done
set +e
mpirun -np 2 --oversubscribe --allow-run-as-root "$bin/otasim-mpi" shard "$src/scenarios/herd-jittered.json" \
  --devices 1000 --out refused > refused.txt 2>&1; status=$?
set -e
[ "$status" = 2 ] || fail "shard of a limited-server scenario exited $status (expected 2)"
grep -q "/server: a sharded run needs an origin without limits" refused.txt || fail "no reason given: $(cat refused.txt)"
[ ! -e refused ] || fail "a refused shard run wrote output"
echo "otasim-mpi shard: same totals on 1 and 2 ranks"
