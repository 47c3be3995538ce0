#!/usr/bin/env bash
# Audit trail benchmark: durable records/second on a real PostgreSQL (started by the test harness
# from Debian's postgresql package) and the latency the audit stage adds per request.
# usage: bench/audit/run.sh [REQUESTS] [CONCURRENCY]    -> prints and writes bench/results/audit.txt
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench/results
./mvnw -q test -Dtest=AuditThroughputBench -Dsurefire.failIfNoSpecifiedTests=false \
  -Dbench.requests="${1:-4000}" -Dbench.concurrency="${2:-64}" -Dbench.out="$PWD/bench/results/audit.txt" >/dev/null
cat bench/results/audit.txt
