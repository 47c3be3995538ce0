#!/usr/bin/env bash
# Audit store benchmark on both stores: the embedded H2 file and a real PostgreSQL (started by the
# test harness from Debian's postgresql package). For each: the disk's fdatasync time, a durable
# append at concurrency 1 next to it, what the audit stage adds per request, durable records per
# second under concurrent requests and for the store alone, and the store's growth per request.
# usage: bench/audit/run.sh [REQUESTS] [CONCURRENCY]    -> prints and writes bench/results/audit.txt
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench/results target
./mvnw -B -q test -Dtest='AuditThroughputH2Bench,AuditThroughputBench' -Dsurefire.failIfNoSpecifiedTests=false \
  -Dbench.requests="${1:-4000}" -Dbench.concurrency="${2:-64}" -Dbench.out.dir="$PWD/target" >/dev/null
cat target/audit-bench-h2.txt target/audit-bench-postgresql.txt | tee bench/results/audit.txt
