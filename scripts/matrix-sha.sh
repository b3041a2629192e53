#!/bin/sh
# The sha256 of `fanli run PLAN STREAM --json` for every matrix workload, one line each:
# run before and after an engine change and diff the two files (they must be identical).
# Usage: scripts/matrix-sha.sh FANLI [EVENTS] > sums.txt   (streams from `cargo xtask bench
# --matrix`, under $CARGO_TARGET_DIR or target/, bench/matrix/; EVENTS defaults to 200000)
set -eu
fanli=$1
events=${2:-200000}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${CARGO_TARGET_DIR:-$root/target}/bench/matrix
plan_of() {
    case $1 in
        all-kinds|deep-referrals) echo bench/plan-all.toml ;;
        settle-7|rejects-5pct|long-ids) echo bench/plan.toml ;;
        *) echo "bench/matrix/$1.toml" ;;
    esac
}
for w in appreciation refer-refund distribution queue green-points cycle all-kinds settle-0 \
    settle-7 refunds-clawback rejects-5pct long-ids deep-referrals; do
    stream=$(ls "$dir/$w-$events-seed42-g"*.jsonl | tail -1)
    sum=$(cd "$root" && "$fanli" run "$(plan_of "$w")" "$stream" --json | sha256sum | cut -d' ' -f1)
    echo "$w $sum"
done
