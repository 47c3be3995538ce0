# Finds a JDK >= 25 (JAVA_HOME first, then the usual Temurin path) and exports JAVA_HOME.
find_java25() {
  local candidate
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64; do
    [[ -n "$candidate" && -x "$candidate/bin/java" ]] || continue
    local version
    version="$("$candidate/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')"
    if [[ "${version%%.*}" -ge 25 ]]; then
      export JAVA_HOME="$candidate"
      export PATH="$JAVA_HOME/bin:$PATH"
      return 0
    fi
  done
  echo "cleargate: a JDK 25 or newer is required; set JAVA_HOME to one (tried JAVA_HOME and /usr/lib/jvm/temurin-25-jdk-amd64)" >&2
  exit 1
}

# The gateway's JVM options wherever this repository starts it (bin/cleargate up, the bench); the
# container image gets the same list through quarkus.jib.jvm-additional-arguments in
# application.properties (keep the two alike). Why each is there:
#   --add-modules=jdk.incubator.vector   the embedded engine's SIMD kernels
#   --enable-native-access=ALL-UNNAMED   native access the libraries ask for, without a warning
#   -XX:MetaspaceSize=160m               the gateway's classes fill about 100 MB of metaspace; from the
#                                        default first threshold (21 MB) every doubling on the way costs
#                                        a full collection (three while starting, one more later, 70-300 ms
#                                        each on one core: bench/results/speed.md section 7)
#   -XX:SweeperThreshold=50              the JVM unloads stale compiled code with a collection each time
#                                        15% of the code cache (36 MB) has been compiled since the last; with
#                                        Serial that is a full collection (198 ms in a full-arm bench run, a
#                                        152 ms p99 at c=1 in another); at 50% it waits for 120 MB, which the
#                                        gateway's warm JIT does not reach, and a nearly full cache still
#                                        triggers it (StartAggressiveSweepingAt)
#   -Dh2.objectCache=false               H2 keeps a shared cache of recent values and, for every string
#                                        it reads or binds, hashes the whole string to look it up there;
#                                        the audit checkpoint signer reads every record back, and that
#                                        lookup was a fifth of its CPU (6% of the full arm's, c=64 profile
#                                        in bench/results/speed.md section 12) for nothing: no string is
#                                        read twice, and the cache only kept old values alive for the collector
#   -XX:NewRatio=1                       half the heap for new objects (a third by default): a request
#                                        allocates 300-400 KB, nearly all of it garbage when it ends, and
#                                        a young collection costs about the same however large the young
#                                        generation is (its survivors and the old generation's dirty cards),
#                                        so fewer, not longer, pauses: 19 -> 13 in 15 s at concurrency 1
#                                        (bench/results/speed.md section 12); the live set (about 60 MB with
#                                        H2's cache capped in the database URL) fits the other half
GATEWAY_JVM_OPTS=(--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:MetaspaceSize=160m
  -XX:SweeperThreshold=50 -Dh2.objectCache=false -XX:NewRatio=1)
