#!/usr/bin/env bash
# record-expected.sh: record the expected output of every guest from a native
# run (this needs a kernel that runs i386 programs, i.e. ia32 emulation on).
#
# Each guest variant build/guests/NAME-VARIANT runs as
#     env -i REHOST_TEST_VAR=hello NAME-VARIANT alpha beta </dev/null
# in an empty temporary working directory; the test harness (tests/lib.rs)
# runs translated guests exactly the same way. Its stdout goes to
# tests/expected/NAME.out and its exit status (128+N for a signal) to
# tests/expected/NAME.status. Every variant of a guest must agree with NAME-O0;
# a variant that legitimately differs is recorded as NAME-VARIANT.out/.status
# (with a warning), and the harness prefers that file for that variant.
# Each variant runs twice; a guest whose output is not deterministic fails.
#
# With NAME arguments, only those guests are recorded.
#
# Environment: REHOST_GUESTS overrides build/guests.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
guests=${REHOST_GUESTS:-$root/build/guests}
expected=$root/tests/expected
variant_re='^(pie-|dyn-)?O[0-3s](-strip)?$'

if [[ ! -d $guests ]]; then
    echo "record-expected: $guests does not exist; run \`make guests\` first" >&2
    exit 1
fi
guests=$(cd "$guests" && pwd)
mkdir -p "$expected"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run_guest() { # run_guest BIN OUTFILE -> prints exit status
    local status=0
    (cd "$work/cwd" && timeout -s KILL 60 env -i REHOST_TEST_VAR=hello "$1" alpha beta </dev/null >"$2" 2>"$work/stderr") || status=$?
    echo "$status"
}

names=("$@")
if [[ ${#names[@]} == 0 ]]; then
    for src in "$root"/tests/guests/*.c "$root"/tests/guests/*.cpp; do
        [[ -e $src ]] || continue
        n=$(basename "$src")
        names+=("${n%.*}")
    done
fi

failed=0
recorded=0
for name in "${names[@]}"; do
    rm -f "$expected/$name".out "$expected/$name".status "$expected/$name"-*.out "$expected/$name"-*.status
    base="$guests/$name-O0"
    if [[ ! -x $base ]]; then
        echo "record-expected: missing $base; run \`make guests\`" >&2
        failed=1
        continue
    fi
    variants=()
    for bin in "$guests/$name"-*; do
        v=${bin#"$guests/$name"-}
        [[ $v != O0 && $v =~ $variant_re ]] && variants+=("$v")
    done
    for v in O0 "${variants[@]}"; do
        rm -rf "$work/cwd" && mkdir "$work/cwd"
        s1=$(run_guest "$guests/$name-$v" "$work/out1")
        rm -rf "$work/cwd" && mkdir "$work/cwd"
        s2=$(run_guest "$guests/$name-$v" "$work/out2")
        if [[ $s1 != "$s2" ]] || ! cmp -s "$work/out1" "$work/out2"; then
            echo "record-expected: $name-$v is not deterministic (status $s1 vs $s2):" >&2
            diff "$work/out1" "$work/out2" | head -5 >&2 || true
            failed=1
            continue
        fi
        if [[ $s1 == 137 ]]; then
            echo "record-expected: $name-$v was killed (timeout?)" >&2
            failed=1
            continue
        fi
        if [[ $v == O0 ]]; then
            cp "$work/out1" "$expected/$name.out"
            echo "$s1" >"$expected/$name.status"
            printf '%-10s status %-3s %6s bytes\n' "$name" "$s1" "$(wc -c <"$work/out1")"
            recorded=$((recorded + 1))
        elif [[ $s1 != "$(cat "$expected/$name.status")" ]] || ! cmp -s "$work/out1" "$expected/$name.out"; then
            echo "record-expected: WARNING: $name-$v differs from $name-O0; recording it separately" >&2
            diff "$expected/$name.out" "$work/out1" | head -5 >&2 || true
            cp "$work/out1" "$expected/$name-$v.out"
            echo "$s1" >"$expected/$name-$v.status"
        fi
    done
done
echo "record-expected: recorded $recorded guests into $expected"
exit $failed
