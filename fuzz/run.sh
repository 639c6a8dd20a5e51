#!/bin/sh
# fuzz/run.sh - runs every libFuzzer harness built in build/fuzz for
# $FUZZ_SECONDS seconds (default 60) each, over its corpus fuzz/corpus/<name>/.
# Called by `make fuzz` after `cmake --build --preset fuzz`.
#
# New inputs a run finds go to a scratch directory, not into the repository.
# With FUZZ_MERGE=1 the ones that add coverage are merged into the corpus
# (libFuzzer -merge=1), so the corpus stays small. A crash, leak or timeout
# stops with exit status 1; the input is kept as build/fuzz/artifacts/<name>-*.
#
# Environment: FUZZ_SECONDS, FUZZ_MERGE, FUZZ_ONLY (one harness name),
# FUZZ_ARGS (extra libFuzzer flags, e.g. "-jobs=2 -workers=2").
set -eu
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
BUILD=build/fuzz

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    echo "fuzz/run.sh: $BUILD is not configured; run: cmake --preset fuzz && cmake --build --preset fuzz" >&2
    exit 2
fi
# libFuzzer steers by coverage, and only code compiled with -fsanitize=fuzzer
# or -fsanitize=fuzzer-no-link has any. The harnesses get the former from
# fuzz/CMakeLists.txt; the library they call (linli_core) gets the latter only
# through CMAKE_C_FLAGS, so set it once here if the build does not have it.
if ! grep -q '^CMAKE_C_FLAGS:STRING=.*fuzzer-no-link' "$BUILD/CMakeCache.txt"; then
    echo "fuzz/run.sh: instrumenting linli_core for coverage (-fsanitize=fuzzer-no-link)"
    cmake --preset fuzz -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link >/dev/null
    cmake --build --preset fuzz
fi

harnesses=$(find "$BUILD/fuzz" -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x | sort)
if [ -z "$harnesses" ]; then
    echo "fuzz/run.sh: no harnesses in $BUILD/fuzz (build with: cmake --build --preset fuzz)" >&2
    exit 2
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/linli-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM
mkdir -p "$BUILD/artifacts"
# Leaks are bugs here too; an input may take at most 10 s and 2 GB.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

status=0
for bin in $harnesses; do
    name=$(basename "$bin")
    if [ -n "${FUZZ_ONLY:-}" ] && [ "$FUZZ_ONLY" != "$name" ]; then
        continue
    fi
    corpus=fuzz/corpus/$name
    mkdir -p "$corpus" "$scratch/$name"
    log=$BUILD/artifacts/$name.log
    echo "== $name: ${SECONDS_EACH}s over $corpus (log: $log)"
    # shellcheck disable=SC2086
    if "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$name-" \
        ${FUZZ_ARGS:-} "$scratch/$name" "$corpus" >"$log" 2>&1; then
        grep -E '^#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::new_units_added' "$log" || true
        new=$(find "$scratch/$name" -type f | wc -l)
        echo "   ok; $new new inputs this run"
        if [ "${FUZZ_MERGE:-0}" = 1 ] && [ "$new" -gt 0 ]; then
            before=$(find "$corpus" -type f | wc -l)
            "$bin" -merge=1 "$corpus" "$scratch/$name" >>"$log" 2>&1
            after=$(find "$corpus" -type f | wc -l)
            echo "   merged into $corpus: $before -> $after files"
        fi
    else
        status=1
        echo "   FAILED: see $log; the input is in $BUILD/artifacts/$name-*" >&2
        grep -E 'ERROR: |SUMMARY: |^ +#[0-9]+ 0x' "$log" | head -20 >&2 || true
    fi
done
exit $status
