#!/bin/bash
# path1 (speed.md 62): the full arm's CPU and allocation per request at c=1.
# JOB=1 (--both): `bin/cleargate bench profile full 1` of each build in PROFILES ("base branch": main's copy in
#   BASE, then the worktree's; BENCH_SECONDS=20 after the bench's warm-up, BENCH_WARMUP=30 BENCH_WARMUP_MAX=60):
#   CPU-time and allocation samples by stage (bench/jfr_profile.py), copied to $OUT with the flame graphs.
# JOB=2 (--both): ABBA, BASE (main 0e74a16's quarkus-app, copied to /tmp/path1/base before any change) against
#   the branch's target/quarkus-app: `bin/cleargate bench` with BENCH_ARMS="direct full-b full full full-b"
#   (BENCH_STREAM=0): added p50/p99 at c=1 (C client), CPU per request at c=1 and c=64, KB allocated per
#   request, the collector's pauses.
set -uo pipefail
export BENCH_SECONDS=${BENCH_SECONDS:-20} # read by bin/lib/bench.sh when sourced
ROOT=${ROOT:-/work/wt/path1}; export CLEARGATE_ROOT=$ROOT; cd $ROOT
for lib in "$ROOT"/bin/lib/*.sh; do source "$lib"; done
set +e
JOB=${JOB:-1}; OUT=${OUT:-/tmp/path1/job$JOB${TAG:-}}; rm -rf $OUT; mkdir -p $OUT
BASE=${BASE:-/tmp/path1/base}
export BENCH_WARMUP=${BENCH_WARMUP:-30} BENCH_WARMUP_MAX=${BENCH_WARMUP_MAX:-60}
echo "$(date +%T) start JOB=$JOB, $(git log --oneline | head -1), tree $(git status --porcelain src | wc -l) changed files"
find_java25; bench_tools
if [ $JOB = 1 ]; then
  # PROFILES: the builds to profile, in order (base: BASE's quarkus-app; branch: the worktree's).
  for build in ${PROFILES:-branch}; do
    app=$ROOT/target/quarkus-app; [ $build = base ] && app=$BASE
    echo "$(date +%T) profile $build ($app)"
    GATEWAY_APP=$app cleargate_bench profile full ${C:-1} > $OUT/profile-$build.txt 2>&1
    for ext in md svg collapsed jfr; do cp target/bench/profile-full-c${C:-1}.$ext $OUT/profile-$build-c${C:-1}.$ext; done
  done
else
  [ -f $BASE/quarkus-run.jar ] || { echo "base build missing"; exit 1; }
  ARMS=${ARMS:-direct full-b full full full-b}
  BENCH_APP_B=$BASE BENCH_ARMS="$ARMS" BENCH_STREAM=0 cleargate_bench > $OUT/bench.txt 2>&1
  cp bench/results/latest.md $OUT/latest.md; cp bench/results/run-*.jsonl $OUT/ 2>/dev/null
fi
echo "$(date +%T) done"
