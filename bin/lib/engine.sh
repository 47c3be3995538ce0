# The embedded engine's command line (io.cleargate.engine.embedded.EngineCli): logits, generate, chat, bench.
# Usage from a bin script:   source bin/lib/engine.sh; cleargate_engine logits --model DIR --ids 0,17,42
# Builds the classes if they are missing or older than the sources; runs on JDK 25 with the Vector API.

cleargate_engine() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  # shellcheck source=java.sh
  source "$root/bin/lib/java.sh"
  find_java25
  local classes="$root/target/classes"
  local cp_file="$root/target/engine-classpath.txt"
  if [[ ! -f "$classes/io/cleargate/engine/embedded/EngineCli.class" ]] \
     || [[ -n "$(find "$root/src/main/java/io/cleargate/engine" -newer "$classes/io/cleargate/engine/embedded/EngineCli.class" -name '*.java' -print -quit)" ]]; then
    (cd "$root" && ./mvnw -q compile) >&2 || { echo "cleargate engine: build failed" >&2; return 1; }
  fi
  if [[ ! -s "$cp_file" || "$root/pom.xml" -nt "$cp_file" ]]; then
    (cd "$root" && ./mvnw -q dependency:build-classpath -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=runtime) >&2 \
      || { echo "cleargate engine: cannot resolve the classpath" >&2; return 1; }
  fi
  "$JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    -XX:+UseParallelGC -Xss4m ${CLEARGATE_ENGINE_JAVA_OPTS:-} \
    -cp "$classes:$(cat "$cp_file")" io.cleargate.engine.embedded.EngineCli "$@" 2> >(grep -v 'WARNING: Using incubator modules' >&2)
}
