# What the console's browser tests need: Debian's chromium and chromium-driver (with a font, so
# screenshots show text) and axe-core from npm (Node.js from Debian's nodejs and npm packages when
# missing), installed into tools/axe (git-ignored) and injected into each page by the tests.
# Source this file, then: console_browser_install ROOT

AXE_CORE_VERSION="${AXE_CORE_VERSION:-4.11.0}"

# apt-get install PACKAGE...: quietly, updating the package lists once if the first try fails.
console_apt_install() {
  command -v apt-get >/dev/null || { echo "console: apt-get is needed to install $*" >&2; return 1; }
  echo "console: installing $* (Debian packages)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; } \
    || { echo "console: could not install $*" >&2; return 1; }
}

console_browser_install() {
  local root="$1"
  if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]] || [[ ! -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]]; then
    console_apt_install chromium chromium-driver fonts-dejavu-core || return 1
  fi
  local axe="$root/tools/axe/node_modules/axe-core/axe.min.js"
  if [[ ! -s "$axe" ]]; then
    if ! command -v npm >/dev/null; then
      console_apt_install nodejs npm || return 1
    fi
    echo "console: fetching axe-core $AXE_CORE_VERSION (npm)" >&2
    mkdir -p "$root/tools/axe"
    (cd "$root/tools/axe" && npm install --silent --no-audit --no-fund --prefix . "axe-core@$AXE_CORE_VERSION" >/dev/null) \
      || { echo "console: could not install axe-core" >&2; return 1; }
  fi
  [[ -s "$axe" ]]
}
