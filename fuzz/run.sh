#!/usr/bin/env bash
# Runs one fuzz target for a while: fuzz/run.sh TARGET [SECONDS] [extra libFuzzer flags...]
# New inputs go to fuzz/corpus/TARGET (git-ignored), the committed seeds in
# fuzz/seeds/TARGET are read too, crashes land in fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")"
target=$1
secs=${2:-600}
shift $(( $# >= 2 ? 2 : 1 ))
mkdir -p "corpus/$target"
exec cargo fuzz run --release --debug-assertions --sanitizer none "$target" \
  "corpus/$target" "seeds/$target" -- \
  -dict=json.dict -max_len=4096 -max_total_time="$secs" -print_final_stats=1 "$@"
