#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each: `scripts/fuzz.sh BINARY SECONDS [TARGET...]`.
# Seeds and kept inputs are Tests/TugFuzzTargetsTests/Inputs/<target>/ (replayed by `swift test` too); what the
# fuzzer finds goes to a scratch corpus. A crash, a hang (over 10 s) or an allocation over 2 GiB fails the run, with
# the input saved under .build-fuzz/findings/ to be added to the kept inputs once fixed. (Leak detection is off: the
# Swift runtime's lazily built metadata and globals read as leaks.)
set -euo pipefail
bin=$1
seconds=$2
shift 2
inputs=Tests/TugFuzzTargetsTests/Inputs
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=($(ls "$inputs"))
fi
findings=.build-fuzz/findings
mkdir -p "$findings"
failed=()
for target in "${targets[@]}"; do
    corpus=$(mktemp -d)
    log=$(mktemp)
    echo "fuzz: $target for ${seconds}s"
    # libFuzzer stops itself after -max_total_time; the outer timeout only guards against a wedged process.
    if ASAN_OPTIONS=detect_leaks=0 TUG_FUZZ_TARGET=$target timeout --kill-after=10 $((seconds + 60)) "$bin" "$corpus" "$inputs/$target" \
        -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
        -detect_leaks=0 -artifact_prefix="$findings/$target-" -print_final_stats=1 >"$log" 2>&1; then
        grep -E "stat::number_of_executed_units|stat::new_units_added" "$log" | tr '\n' ' ' | sed "s/^/fuzz: $target: /"; echo
    else
        failed+=("$target")
        tail -40 "$log"
        echo "fuzz: $target FAILED; the input is in $findings/ (add it to $inputs/$target/ with the fix)"
    fi
    rm -rf "$corpus" "$log"
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: failing targets: ${failed[*]}"
    exit 1
fi
