# What the console's browser tests need: Debian's chromium and chromium-driver (apt-get when
# missing) and axe-core from npm, installed into tools/axe (git-ignored) and injected into each
# page by the tests. Source this file, then: console_browser_install ROOT

AXE_CORE_VERSION="${AXE_CORE_VERSION:-4.11.0}"

console_browser_install() {
  local root="$1"
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    echo "console: installing chromium and chromium-driver (Debian packages)" >&2
    command -v apt-get >/dev/null || { echo "console: apt-get is needed to install chromium" >&2; return 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null; } \
      || { echo "console: could not install chromium" >&2; return 1; }
  fi
  local axe="$root/tools/axe/node_modules/axe-core/axe.min.js"
  if [[ ! -s "$axe" ]]; then
    command -v npm >/dev/null || { echo "console: npm is needed to fetch axe-core" >&2; return 1; }
    echo "console: fetching axe-core $AXE_CORE_VERSION (npm)" >&2
    mkdir -p "$root/tools/axe"
    (cd "$root/tools/axe" && npm install --silent --no-audit --no-fund --prefix . "axe-core@$AXE_CORE_VERSION" >/dev/null) \
      || { echo "console: could not install axe-core" >&2; return 1; }
  fi
  [[ -s "$axe" ]]
}
