#!/usr/bin/env bash
# enosys-list.sh: print every i386 system call rehost answers -ENOSYS for,
# grouped with the reason, straight from runtime/src/syscall/table.rs (its
# unit test `enosys_list` checks that each such entry has one reason).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release -q -p rehost-runtime --lib -- syscall::table::tests::enosys_list \
    --exact --nocapture 2>/dev/null | grep -Ev '^(running [0-9]+ tests?|\.*|test result:.*)$'
