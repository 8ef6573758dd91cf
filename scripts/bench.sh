#!/usr/bin/env bash
# bench.sh: run each benchmark in bench/*.c natively, translated (`rehost
# translate` once, then the output), via `rehost run`, and under qemu-i386;
# BENCH_RUNS (default 5) runs of each, interleaved round by round; take the
# median of each; check that every mode printed what the native run printed;
# print a Markdown table of ratios to native (lower is better) and the
# geometric mean per mode. Absolute times are never reported.
#
# A mode that is unavailable, fails to translate, exits non-zero, prints
# something else or times out shows `fail` in its cell; the script goes on.
# Non-native modes run under no-ia32 when it is built, so a port that lets
# an i386 system call through fails instead of being measured.
#
# Environment: REHOST_BIN (default target/release/rehost), BENCH_RUNS,
# BENCH_ONLY="fib vm" (a subset), BENCH_TIMEOUT (seconds per run, default 120),
# BENCH_IC=1 (two more columns with the inline caches at indirect jumps and
# calls: translated with --inline-caches, and rehost run with REHOST_IC=1).
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${BENCH_RUNS:-5}
timeout_s=${BENCH_TIMEOUT:-120}
rehost=${REHOST_BIN:-$root/target/release/rehost}
no_ia32=$root/target/release/no-ia32
out=$root/build/bench
mkdir -p "$out"

scripts/ensure-toolchain.sh --qemu || echo "bench: could not install the toolchain or qemu-user; going on" >&2

benches=()
for src in bench/*.c; do
    name=$(basename "$src" .c)
    if [[ -n ${BENCH_ONLY:-} && " $BENCH_ONLY " != *" $name "* ]]; then continue; fi
    benches+=("$name")
done
modes=(native translated run qemu)
if [[ -n ${BENCH_IC:-} && ${BENCH_IC} != 0 ]]; then
    modes=(native translated translated_ic run run_ic qemu)
fi
declare -A title=([native]=native [translated]=translated [run]="rehost run" [qemu]=qemu-i386
    [translated_ic]="translated --inline-caches" [run_ic]="rehost run, REHOST_IC=1")
declare -A failed times reference why

wrap=()
if [[ -x $no_ia32 ]]; then
    wrap=("$no_ia32" --)
else
    echo "bench: $no_ia32 not built; rehost modes run without the no-ia32 filter" >&2
fi
have_rehost=0
[[ -x $rehost ]] && have_rehost=1
[[ $have_rehost -eq 1 ]] || echo "bench: $rehost not built: run \`make build\`; its columns will say fail" >&2
have_qemu=0
command -v qemu-i386 >/dev/null 2>&1 && have_qemu=1

for b in "${benches[@]}"; do
    if ! gcc -m32 -static -O2 -Wall -o "$out/$b" "bench/$b.c" -lm; then
        for m in "${modes[@]}"; do failed[$b,$m]=1; done
        why[$b]="does not compile"
        continue
    fi
    if [[ $have_rehost -eq 1 ]]; then
        rm -f "$out/$b.x86_64"
        if ! timeout -s KILL 600 "$rehost" translate "$out/$b" -o "$out/$b.x86_64" 2>"$out/$b.translate.log"; then
            failed[$b,translated]=1
            echo "bench: rehost translate $b failed: $(tail -1 "$out/$b.translate.log")" >&2
        fi
    else
        failed[$b,translated]=1
        failed[$b,run]=1
    fi
    [[ $have_qemu -eq 1 ]] || failed[$b,qemu]=1
    if [[ " ${modes[*]} " == *" translated_ic "* && -z ${failed[$b,translated]:-} ]]; then
        rm -f "$out/$b.ic.x86_64"
        if ! timeout -s KILL 600 "$rehost" translate --inline-caches "$out/$b" -o "$out/$b.ic.x86_64" 2>"$out/$b.translate-ic.log"; then
            failed[$b,translated_ic]=1
            echo "bench: rehost translate --inline-caches $b failed: $(tail -1 "$out/$b.translate-ic.log")" >&2
        fi
    fi
    [[ -n ${failed[$b,translated]:-} ]] && failed[$b,translated_ic]=1
    [[ -n ${failed[$b,run]:-} ]] && failed[$b,run_ic]=1
done

command_for() { # command_for BENCH MODE -> sets cmd=(...)
    case $2 in
    native) cmd=("$out/$1") ;;
    translated) cmd=("${wrap[@]}" "$out/$1.x86_64") ;;
    run) cmd=("${wrap[@]}" "$rehost" run "$out/$1") ;;
    translated_ic) cmd=("${wrap[@]}" "$out/$1.ic.x86_64") ;;
    run_ic) cmd=(env REHOST_IC=1 "${wrap[@]}" "$rehost" run "$out/$1") ;;
    qemu) cmd=("${wrap[@]}" qemu-i386 "$out/$1") ;;
    esac
}

for ((round = 1; round <= runs; round++)); do
    echo "bench: round $round of $runs" >&2
    for b in "${benches[@]}"; do
        for m in "${modes[@]}"; do
            [[ -n ${failed[$b,$m]:-} ]] && continue
            command_for "$b" "$m"
            t0=$(date +%s%N)
            timeout -s KILL "$timeout_s" "${cmd[@]}" >"$out/$b.$m.out" 2>"$out/$b.$m.err" </dev/null
            status=$?
            t1=$(date +%s%N)
            if [[ $status -ne 0 ]]; then
                echo "bench: $b ($m) exited with status $status: $(tail -1 "$out/$b.$m.err")" >&2
                failed[$b,$m]=1
                continue
            fi
            if [[ $m == native ]]; then
                [[ -z ${reference[$b]:-} ]] && reference[$b]=$(cat "$out/$b.$m.out")
            elif [[ "$(cat "$out/$b.$m.out")" != "${reference[$b]:-}" ]]; then
                echo "bench: $b ($m) printed something else than the native run" >&2
                failed[$b,$m]=1
                continue
            fi
            times[$b,$m]+="$((t1 - t0)) "
        done
    done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {if (NR == 0) exit 1; if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

echo
echo "Ratios to native i386 (median of $runs interleaved runs; lower is better):"
echo
printf '| benchmark |'
for m in "${modes[@]:1}"; do printf ' %s |' "${title[$m]}"; done
printf '\n|---|'
for m in "${modes[@]:1}"; do printf -- '---:|'; done
printf '\n'
declare -A logsum count
for b in "${benches[@]}"; do
    printf '| %s |' "$b"
    native=""
    [[ -z ${failed[$b,native]:-} ]] && native=$(echo "${times[$b,native]:-}" | median)
    for m in "${modes[@]:1}"; do
        if [[ -z $native || -n ${failed[$b,$m]:-} ]]; then
            printf ' fail |'
            continue
        fi
        med=$(echo "${times[$b,$m]}" | median)
        ratio=$(awk -v a="$med" -v n="$native" 'BEGIN {printf "%.2f", a / n}')
        printf ' %s |' "$ratio"
        logsum[$m]=$(awk -v s="${logsum[$m]:-0}" -v r="$med" -v n="$native" 'BEGIN {printf "%.12f", s + log(r / n)}')
        count[$m]=$((${count[$m]:-0} + 1))
    done
    printf '\n'
done
printf '| **geomean** |'
for m in "${modes[@]:1}"; do
    c=${count[$m]:-0}
    if [[ $c -eq 0 ]]; then
        printf ' fail |'
    else
        g=$(awk -v s="${logsum[$m]}" -v c="$c" 'BEGIN {printf "%.2f", exp(s / c)}')
        if [[ $c -lt ${#benches[@]} ]]; then
            printf ' %s (%d of %d) |' "$g" "$c" "${#benches[@]}"
        else
            printf ' %s |' "$g"
        fi
    fi
done
printf '\n'
