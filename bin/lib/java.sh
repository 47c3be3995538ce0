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
