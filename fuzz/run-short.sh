#!/usr/bin/env bash
# Short fuzzing pass for CI: builds every cargo-fuzz target and runs each
# for a bounded time on a scratch copy of its committed seeds, so the grown
# corpus is never committed. Any crash, panic, leak or timeout fails the
# script (libFuzzer exits nonzero and leaves the input in fuzz/artifacts/).
#
#   fuzz/run-short.sh                 # every target, FUZZ_SECONDS each (20)
#   FUZZ_SECONDS=300 fuzz/run-short.sh template config
set -euo pipefail
cd "$(dirname "$0")"

seconds="${FUZZ_SECONDS:-20}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(webhook template config response ticket_json findings)
fi

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# `--dev -s none`: see [profile.dev] in Cargo.toml; the code is safe Rust,
# so AddressSanitizer would only slow the build and the runs.
flags=(--dev -s none)
cargo +nightly fuzz build "${flags[@]}"
for target in "${targets[@]}"; do
    scratch="target/corpus-run/$target"
    rm -rf "$scratch"
    mkdir -p "$scratch"
    cp corpus/"$target"/* "$scratch"/
    echo "-- fuzz $target for ${seconds}s"
    # -timeout: one input taking 10 s is a hang, i.e. a bug.
    cargo +nightly fuzz run "${flags[@]}" "$target" "$scratch" -- \
        -max_total_time="$seconds" -timeout=10 -dict="dicts/$target.dict" \
        -print_final_stats=1
done
echo "-- fuzzing: no crash in ${targets[*]}"
