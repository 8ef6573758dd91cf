#!/usr/bin/env bash
# discovery-report.sh: for every built guest (build/guests), translate it
# with --stats, run it as the tests do, and print the discovery report:
# executed blocks the static pass had translated vs found only at run time.
# Usage: scripts/discovery-report.sh [GUEST-VARIANT...]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rehost=${REHOST_BIN:-$root/target/release/rehost}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
guests=("$@")
if [[ ${#guests[@]} -eq 0 ]]; then
    for g in "$root"/build/guests/*; do guests+=("$(basename "$g")"); done
fi
printf '| guest | static blocks executed | found only at run time | static share |\n|---|---:|---:|---:|\n'
for n in "${guests[@]}"; do
    "$rehost" translate --stats "$root/build/guests/$n" -o "$work/$n" 2>/dev/null || { echo "| $n | translate failed | | |"; continue; }
    mkdir -p "$work/cwd"
    line=$(cd "$work/cwd" && timeout 60 env -i REHOST_TEST_VAR=hello REHOST_STATS=1 "$work/$n" alpha beta 2>&1 >/dev/null </dev/null | grep 'stats: blocks executed')
    if [[ $line =~ executed:\ ([0-9]+)\ translated.*,\ ([0-9]+)\ found.*\(([0-9.]+)%\ static\) ]]; then
        echo "| $n | ${BASH_REMATCH[1]} | ${BASH_REMATCH[2]} | ${BASH_REMATCH[3]}% |"
    else
        echo "| $n | no report (guest did not exit normally) | | |"
    fi
done
