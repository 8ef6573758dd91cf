#!/usr/bin/env bash
# ensure-toolchain.sh: make sure this machine can build i386 guests
# (gcc -m32 -static and g++ -m32 -static). On a fresh Debian machine the
# multilib packages are missing: install them with apt-get (as root, or via
# sudo when available). Prints nothing when everything is already there.
#
# With --qemu, also make sure qemu-i386 (Debian's qemu-user) is installed.
set -euo pipefail

want_qemu=0
[[ "${1:-}" == "--qemu" ]] && want_qemu=1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

can_build_guests() {
    printf '#include <stdio.h>\nint main(void){puts("ok");return 0;}\n' >"$tmp/t.c"
    printf '#include <iostream>\nint main(){std::cout<<"ok\\n";return 0;}\n' >"$tmp/t.cpp"
    gcc -m32 -static -o "$tmp/t" "$tmp/t.c" >/dev/null 2>&1 &&
        g++ -m32 -static -o "$tmp/tpp" "$tmp/t.cpp" >/dev/null 2>&1
}

apt_install() {
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            echo "ensure-toolchain: need root to install: $*" >&2
            exit 1
        fi
    fi
    echo "ensure-toolchain: installing $* with apt-get" >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2
}

if ! can_build_guests; then
    apt_install gcc-multilib g++-multilib
    if ! can_build_guests; then
        echo "ensure-toolchain: gcc -m32 -static still cannot link a static program" >&2
        exit 1
    fi
fi

if [[ $want_qemu -eq 1 ]] && ! command -v qemu-i386 >/dev/null 2>&1; then
    # Debian 12 ships qemu-i386 in qemu-user; newer releases may split it out.
    apt_install qemu-user || apt_install qemu-user-binfmt
fi
