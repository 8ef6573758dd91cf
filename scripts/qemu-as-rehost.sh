#!/usr/bin/env bash
# qemu-as-rehost.sh: a stand-in for target/release/rehost built on qemu-i386,
# to check the test harness itself before (or independently of) the real
# translator:
#
#     REHOST_BIN=scripts/qemu-as-rehost.sh cargo test -p rehost-tests
#
#   translate GUEST -o OUT   writes OUT, a script that execs qemu-i386 GUEST
#   run GUEST [ARGS...]      execs qemu-i386 GUEST ARGS...
#
# (env -u drops the variables the shell itself adds.)
# qemu-i386 is an x86-64 process, so it passes the no-ia32 filter. Where
# qemu differs from a native i386 run (uname says i686, %gs reads 0x33,
# non-LFS readdir fails with EOVERFLOW on 64-bit directory offsets), the
# harness reports failures: that is the harness working.
set -uo pipefail

die() {
    echo "rehost (qemu stand-in): $*" >&2
    exit 1
}

check_elf() { # check_elf FILE: an ELF32 little-endian EM_386 executable?
    [[ -f $1 && -r $1 ]] || die "cannot read $1"
    local hdr
    hdr=$(od -An -tx1 -N20 -v "$1" 2>/dev/null | tr -d ' \n')
    [[ ${#hdr} -eq 40 ]] || die "$1: truncated ELF header"
    [[ ${hdr:0:8} == 7f454c46 ]] || die "$1: not an ELF file"
    [[ ${hdr:8:2} == 01 ]] || die "$1: not a 32-bit ELF file"
    [[ ${hdr:10:2} == 01 ]] || die "$1: not little-endian"
    [[ ${hdr:36:4} == 0300 ]] || die "$1: not an i386 (EM_386) program"
    local size
    size=$(stat -c %s "$1")
    ((size >= 52)) || die "$1: truncated ELF header"
    local phoff phnum phentsize
    phoff=$((16#$(od -An -tx4 -j28 -N4 "$1" | tr -d ' ')))
    phentsize=$((16#$(od -An -tx2 -j42 -N2 "$1" | tr -d ' ')))
    phnum=$((16#$(od -An -tx2 -j44 -N2 "$1" | tr -d ' ')))
    ((phentsize == 32)) || die "$1: bad program header size $phentsize"
    ((phoff + phnum * 32 <= size)) || die "$1: program headers lie outside the file"
    local i off
    for ((i = 0; i < phnum; i++)); do
        off=$((16#$(od -An -tx4 -j$((phoff + i * 32 + 4)) -N4 "$1" | tr -d ' ')))
        ((off <= size)) || die "$1: segment $i lies outside the file"
    done
}

command -v qemu-i386 >/dev/null || die "qemu-i386 is not installed"
case "${1:-}" in
translate)
    [[ $# -eq 4 && $3 == -o ]] || die "usage: rehost translate GUEST -o OUT"
    guest=$2 out=$4
    check_elf "$guest"
    guest=$(cd "$(dirname "$guest")" && pwd)/$(basename "$guest")
    tmp="$out.tmp.$$"
    { printf '#!/bin/sh\nexec env -u PWD -u OLDPWD -u SHLVL -u _ qemu-i386 %q "$@"\n' "$guest" >"$tmp"; } 2>/dev/null || die "cannot write $out"
    chmod +x "$tmp" && mv "$tmp" "$out" || { rm -f "$tmp"; die "cannot write $out"; }
    echo "rehost (qemu stand-in): $out runs $guest under qemu-i386" >&2
    ;;
run)
    [[ $# -ge 2 ]] || die "usage: rehost run GUEST [ARGS...]"
    check_elf "$2"
    shift
    exec env -u PWD -u OLDPWD -u SHLVL -u _ qemu-i386 "$@"
    ;;
*)
    die "usage: rehost translate GUEST -o OUT | rehost run GUEST [ARGS...]"
    ;;
esac
