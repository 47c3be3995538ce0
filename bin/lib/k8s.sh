#!/usr/bin/env bash
# Kubernetes manifests (k8s/): tools, the OPA policy bundle, rendering and offline validation.
#
# Source it and call the functions, or run it: bin/lib/k8s.sh install [TOOL..]|bundle|render OVERLAY|validate
#   k8s_install   builds kustomize and kubeconform from the Go module proxy into tools/bin; promtool
#                 comes from Debian's prometheus package (building it from Go takes tens of minutes)
#   k8s_bundle    packs policies/ into k8s/base/opa/bundle.tar.gz (the ConfigMap OPA and the gateway
#                 load), with a revision and signed; the dev overlay verifies it with the signing key's
#                 public half (k8s/base/opa/verification-key.pem), the production overlays with the
#                 public key pinned in the overlay (bundle-verification-key.pem), never with a key
#                 taken from whoever built the bundle
#   k8s_image_opa stages the opa binary the gateway image carries (policy administration's draft
#                 checks run it) into src/main/jib/opt/cleargate/bin/opa: OPA v1.22.3 built static
#                 from the Go module proxy, its module checksum checked against the pin below
#   k8s_image ARG.. stages opa, then builds the gateway image with Jib (./mvnw package, ARGs added)
#   k8s_render O  prints the rendered overlay O (dev, eu, us)
#   k8s_validate  renders every overlay and validates it against the Kubernetes JSON schemas kept
#                 in k8s/schemas (strict: unknown fields and wrong types fail), checks that the
#                 deliberately broken manifests in k8s/tests/invalid are rejected, and checks the
#                 Prometheus rules (promtool check rules + promtool test rules) and the dashboard.
# Nothing here needs a cluster or the network beyond the Go module proxy for the first install.

K8S_KUSTOMIZE_VERSION=v5.8.2      # v5.8.3 needs Go 1.27
K8S_KUBECONFORM_VERSION=v0.8.0
K8S_OPA_VERSION=v1.22.3           # the same as the sidecar image tag in k8s/base/kustomization.yaml
K8S_SCHEMA_VERSION=1.35.0         # k8s/schemas/v1.35.0, see k8s/schemas/README.md
# The Go module checksum (go.sum's h1:, as sum.golang.org records it) of OPA v1.22.3: the opa in the
# gateway image is built from exactly this source, and the build is refused if it differs.
K8S_OPA_MODULE_SUM="h1:d46phjoHHFSl8F2bC8nT8wFxuGEvZRvs8FhYWFqsJ2w="
# Where the image's opa goes: Quarkus' Jib extension adds src/main/jib/ at the image's root
# (executable files keep mode 755), so this file is /opt/cleargate/bin/opa in the image, the path
# k8s/base/gateway.env gives CLEARGATE_OPA_BIN.
K8S_IMAGE_OPA="src/main/jib/opt/cleargate/bin/opa"
K8S_OVERLAYS=(dev eu us)

K8S_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
K8S_BIN="$K8S_ROOT/tools/bin"

k8s_fail() {
  echo "k8s: $*" >&2
  return 1
}

# Installs one Go tool at a pinned version unless that version is already there.
k8s_go_install() {
  local tool="$1" module="$2" version="$3"
  local marker="$K8S_BIN/.$tool.version"
  if [[ -x "$K8S_BIN/$tool" && "$(cat "$marker" 2>/dev/null)" == "$version" ]]; then
    return 0
  fi
  command -v go >/dev/null || k8s_fail "the Go toolchain is needed to build $tool (apt-get install golang-go, or a Go >= 1.25 on PATH)" || return 1
  mkdir -p "$K8S_BIN"
  echo "k8s: building $tool $version into tools/bin (once)..." >&2
  if ! GOBIN="$K8S_BIN" CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod go install "$module@$version" >&2; then
    k8s_fail "go install $module@$version failed"
    return 1
  fi
  echo "$version" > "$marker"
}

# promtool from Debian's prometheus package (only the binary is used; no server is started).
k8s_promtool_install() {
  command -v promtool >/dev/null && return 0
  command -v apt-get >/dev/null || k8s_fail "promtool is needed: install Debian's prometheus package" || return 1
  echo "k8s: installing promtool (Debian package prometheus, once)..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null; } \
    || k8s_fail "apt-get install prometheus failed" || return 1
  command -v promtool >/dev/null || k8s_fail "the prometheus package did not provide promtool" || return 1
}

# k8s_install [TOOL...]: the named tools (default: kustomize, kubeconform and promtool).
k8s_install() {
  local tool
  for tool in "${@:-kustomize kubeconform promtool}"; do
    for tool in $tool; do
      case "$tool" in
        kustomize) k8s_go_install kustomize sigs.k8s.io/kustomize/kustomize/v5 "$K8S_KUSTOMIZE_VERSION" || return 1 ;;
        kubeconform) k8s_go_install kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$K8S_KUBECONFORM_VERSION" || return 1 ;;
        promtool) k8s_promtool_install || return 1 ;;
        # Only for KubernetesManifestsTest, which runs the rendered sidecar's command line.
        opa) k8s_go_install opa github.com/open-policy-agent/opa "$K8S_OPA_VERSION" || return 1 ;;
        *) k8s_fail "unknown tool $tool"; return 1 ;;
      esac
    done
  done
}

# The key that signs the policy bundle: $CLEARGATE_BUNDLE_SIGNING_KEY (a PEM RSA private key; in
# production the CI system's, never committed and never in the cluster), else a development key
# generated once into tools/bundle-signing/ (mode 600). Prints its path.
k8s_signing_key() {
  if [[ -n "${CLEARGATE_BUNDLE_SIGNING_KEY:-}" ]]; then
    [[ -r "$CLEARGATE_BUNDLE_SIGNING_KEY" ]] || k8s_fail "CLEARGATE_BUNDLE_SIGNING_KEY=$CLEARGATE_BUNDLE_SIGNING_KEY is not readable" || return 1
    printf '%s\n' "$CLEARGATE_BUNDLE_SIGNING_KEY"
    return 0
  fi
  local key="$K8S_ROOT/tools/bundle-signing/dev-signing-key.pem"
  if [[ ! -s "$key" ]]; then
    k8s_openssl_install || return 1
    mkdir -p "$(dirname "$key")"
    echo "k8s: generating a development bundle signing key in tools/bundle-signing (once)" >&2
    (umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$key.tmp" 2>/dev/null && mv "$key.tmp" "$key") \
      || k8s_fail "openssl could not generate a signing key" || return 1
  fi
  printf '%s\n' "$key"
}

# openssl (key generation and the public half of the signing key) from Debian's openssl package.
k8s_openssl_install() {
  command -v openssl >/dev/null && return 0
  command -v apt-get >/dev/null || k8s_fail "openssl is needed: install Debian's openssl package" || return 1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openssl >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends openssl >/dev/null; } \
    || k8s_fail "apt-get install openssl failed"
}

# Packs the policy directory as a signed OPA bundle: every policy file but the tests, laid out as in
# policies/, with a .manifest whose roots are the policy's top-level packages (system/* one level
# deeper, since system/credentials comes from the credentials Secret) and whose revision is the
# revision of exactly these files (the same hash io.cleargate.policy.PolicyTree computes, so the
# gateway, reading the same bundle, records the revision OPA decides with). The revision is also
# written to cleargate/meta/data.json, where decisions read it. `opa sign` adds .signatures.json
# (RS256 over every file's SHA-256); the sidecar refuses a bundle whose signature does not verify
# with k8s/base/opa/verification-key.pem, the signing key's public half, written here too.
# (`opa build --signing-key` signs the same way but merges every data.json into one, which would
# lose the per-tenant layout the gateway and policy administration read.) The tarball is
# byte-for-byte reproducible, so an unchanged policy keeps the ConfigMap's name.
k8s_bundle() {
  local policies="${CLEARGATE_POLICIES_DIR:-$K8S_ROOT/policies}"
  # CLEARGATE_BUNDLE_OUT: another place for the bundle (its verification key goes beside it), for
  # checking a tree without touching the one the overlays package.
  local out="${CLEARGATE_BUNDLE_OUT:-$K8S_ROOT/k8s/base/opa/bundle.tar.gz}"
  local pub
  pub="$(dirname "$out")/verification-key.pem"
  [[ -d "$policies" ]] || k8s_fail "no policy directory at $policies (the OPA bundle is built from it; set CLEARGATE_POLICIES_DIR to use another)" || return 1
  local key
  key="$(k8s_signing_key)" || return 1
  k8s_openssl_install || return 1
  local stage
  stage="$(mktemp -d)"
  (cd "$policies" && find . -type f \( -name '*.rego' -o -name 'data.json' \) \
      ! -name '*_test.rego' ! -path './cleargate/meta/*' -exec cp --parents {} "$stage" \;) || { rm -rf "$stage"; k8s_fail "copying $policies failed"; return 1; }
  if ! find "$stage" -name '*.rego' | grep -q .; then
    rm -rf "$stage"
    k8s_fail "$policies holds no .rego policy"
    return 1
  fi
  # The sidecar loads only policies that compile under the gateway's sandbox capabilities (OPA's
  # server has no capabilities option; the sandbox is applied where policy enters).
  k8s_install opa >/dev/null || { rm -rf "$stage"; return 1; }
  if ! "$K8S_BIN/opa" check --capabilities "$K8S_ROOT/src/main/resources/opa/capabilities.json" "$stage" >&2; then
    rm -rf "$stage"
    k8s_fail "$policies does not compile under src/main/resources/opa/capabilities.json"
    return 1
  fi
  if [[ -f "$stage/data.json" ]]; then
    rm -rf "$stage"
    k8s_fail "$policies/data.json would claim the whole data tree; keep data under a package directory"
    return 1
  fi
  local revision roots=() dir
  revision="$(cd "$stage" && find . -type f \( -name '*.rego' -o -name 'data.json' \) | LC_ALL=C sort | xargs -r sha256sum \
    | sha256sum | cut -c1-16)"
  for dir in $(cd "$stage" && find . -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | LC_ALL=C sort); do
    if [[ "$dir" == system ]]; then
      local sub
      for sub in $(cd "$stage/system" && find . -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | LC_ALL=C sort); do
        [[ "$sub" == credentials ]] && { rm -rf "$stage"; k8s_fail "policies/system/credentials is reserved for the credentials Secret"; return 1; }
        roots+=("\"system/$sub\"")
      done
    else
      roots+=("\"$dir\"")
    fi
  done
  local joined
  joined="$(IFS=,; echo "${roots[*]}")"
  mkdir -p "$stage/cleargate/meta"
  printf '{"revision": "%s"}\n' "$revision" > "$stage/cleargate/meta/data.json"
  printf '{"revision":"%s","roots":[%s]}\n' "$revision" "$joined" > "$stage/.manifest"
  # Paths in the signature are relative to the bundle root, so sign from inside it.
  if ! (cd "$stage" && "$K8S_BIN/opa" sign --signing-key "$key" --signing-alg RS256 --bundle . >&2); then
    rm -rf "$stage"
    k8s_fail "opa sign failed with $key"
    return 1
  fi
  mkdir -p "$(dirname "$out")"
  openssl pkey -in "$key" -pubout -out "$pub.tmp" 2>/dev/null && mv "$pub.tmp" "$pub" \
    || { rm -rf "$stage"; k8s_fail "cannot derive the verification key from $key"; return 1; }
  # Member names without "./": OPA matches them against the names in .signatures.json.
  (cd "$stage" && find . -type f -printf '%P\n' | LC_ALL=C sort \
    | tar --mtime=@0 --owner=0 --group=0 --numeric-owner --no-recursion -T - -cf -) | gzip -n -9 > "$out.tmp" \
    && mv "$out.tmp" "$out"
  local rc=$?
  rm -rf "$stage"
  [[ $rc -eq 0 ]] && echo "k8s: policy bundle revision $revision, signed with $key" >&2
  [[ $rc -eq 0 ]] && k8s_report_pinned_keys "$pub"
  return $rc
}

# Says which production overlays pin the public key $1 (their bundle-verification-key.pem): only
# their pods will activate a bundle signed with its private half; the others refuse it.
k8s_report_pinned_keys() {
  local pub="$1" want pinned overlay
  want="$(openssl pkey -pubin -in "$pub" -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)"
  for overlay in "${K8S_OVERLAYS[@]}"; do
    # CLEARGATE_K8S_DIR: another copy of k8s/ to look in (a release tree with the keys pinned).
    pinned="${CLEARGATE_K8S_DIR:-$K8S_ROOT/k8s}/overlays/$overlay/bundle-verification-key.pem"
    [[ -f "$pinned" ]] || continue
    if [[ "$(openssl pkey -pubin -in "$pinned" -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)" == "$want" ]]; then
      echo "k8s: overlay $overlay pins this signing key's public half: its pods will activate this bundle" >&2
    else
      echo "k8s: overlay $overlay pins another key (or none yet): its pods will refuse this bundle" >&2
    fi
  done
}

# The opa of the gateway image: static (CGO off: the image's C library is not this machine's),
# built once into tools/image/ and copied to src/main/jib/ (git-ignored). Checks that the binary's
# build information names OPA v1.22.3 with the pinned module checksum.
k8s_image_opa() {
  local dir="$K8S_ROOT/tools/image" bin="$K8S_ROOT/tools/image/opa"
  command -v go >/dev/null || k8s_fail "the Go toolchain is needed to build the image's opa (apt-get install golang-go, or a Go >= 1.25 on PATH)" || return 1
  # tools/bin/opa is built static too (bin/lib/opa.sh): when it is exactly the pinned build, it is the image's.
  if [[ -x "$K8S_BIN/opa" ]] && k8s_is_pinned_static_opa "$K8S_BIN/opa"; then
    bin="$K8S_BIN/opa"
  elif [[ ! -x "$bin" || "$(cat "$dir/.opa.version" 2>/dev/null)" != "$K8S_OPA_VERSION $K8S_OPA_MODULE_SUM" ]]; then
    mkdir -p "$dir"
    echo "k8s: building the image's opa $K8S_OPA_VERSION (static) into tools/image (once)..." >&2
    GOBIN="$dir" CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod go install "github.com/open-policy-agent/opa@$K8S_OPA_VERSION" >&2 \
      || { k8s_fail "go install github.com/open-policy-agent/opa@$K8S_OPA_VERSION failed"; return 1; }
    echo "$K8S_OPA_VERSION $K8S_OPA_MODULE_SUM" > "$dir/.opa.version"
  fi
  k8s_is_pinned_static_opa "$bin" \
    || { rm -f "$dir/.opa.version"; k8s_fail "$bin is not OPA $K8S_OPA_VERSION with module checksum $K8S_OPA_MODULE_SUM, built static"; return 1; }
  mkdir -p "$(dirname "$K8S_ROOT/$K8S_IMAGE_OPA")"
  # Copied only when different: a fresh mtime under src/main would make the next suite rebuild the gateway.
  if ! { [[ -x "$K8S_ROOT/$K8S_IMAGE_OPA" ]] && cmp -s "$bin" "$K8S_ROOT/$K8S_IMAGE_OPA"; }; then
    install -m 0755 "$bin" "$K8S_ROOT/$K8S_IMAGE_OPA.tmp" && mv "$K8S_ROOT/$K8S_IMAGE_OPA.tmp" "$K8S_ROOT/$K8S_IMAGE_OPA" \
      || { k8s_fail "cannot stage $K8S_IMAGE_OPA"; return 1; }
  fi
  echo "k8s: $K8S_IMAGE_OPA is OPA $K8S_OPA_VERSION ($K8S_OPA_MODULE_SUM, static)" >&2
}

# True when the binary's Go build information names OPA $K8S_OPA_VERSION with the pinned module
# checksum and a static build (CGO_ENABLED=0).
k8s_is_pinned_static_opa() {
  local info
  info="$(go version -m "$1" 2>/dev/null)" || return 1
  grep -qE "^[[:space:]]+mod[[:space:]]+github.com/open-policy-agent/opa[[:space:]]+$K8S_OPA_VERSION[[:space:]]+$K8S_OPA_MODULE_SUM\$" <<< "$info" \
    && grep -qE "^[[:space:]]+build[[:space:]]+CGO_ENABLED=0\$" <<< "$info"
}

# The gateway image (the PostgreSQL build) with opa in it; extra arguments go to ./mvnw (registry,
# group, push: see k8s/README.md, "Container image").
k8s_image() {
  k8s_image_opa || return 1
  (cd "$K8S_ROOT" && ./mvnw -B package -DskipTests -Dquarkus.datasource.db-kind=postgresql \
    -Dquarkus.container-image.build=true "$@")
}

k8s_render() {
  local overlay="$1"
  [[ -d "$K8S_ROOT/k8s/overlays/$overlay" ]] || k8s_fail "no overlay k8s/overlays/$overlay" || return 1
  "$K8S_BIN/kustomize" build "$K8S_ROOT/k8s/overlays/$overlay"
}

# kubeconform over files or stdin, strictly, against the schemas in the repository only.
k8s_kubeconform() {
  "$K8S_BIN/kubeconform" -strict -summary \
    -schema-location "$K8S_ROOT/k8s/schemas/v$K8S_SCHEMA_VERSION/{{.ResourceKind}}{{.KindSuffix}}.json" "$@"
}

k8s_validate() {
  k8s_install || return 1
  k8s_bundle || return 1
  local realm="$K8S_ROOT/k8s/keycloak/cleargate-realm.json"
  [[ -f "$realm" ]] || k8s_fail "the dev overlay imports the Keycloak realm $realm (kept by the identity feature), which is missing" || return 1

  local work overlay failures=0
  work="$(mktemp -d)"
  for overlay in "${K8S_OVERLAYS[@]}"; do
    if ! k8s_render "$overlay" > "$work/$overlay.yaml"; then
      k8s_fail "kustomize could not render overlay $overlay"
      failures=$((failures + 1))
      continue
    fi
    echo "k8s: overlay $overlay" >&2
    k8s_kubeconform "$work/$overlay.yaml" >&2 || failures=$((failures + 1))
  done
  k8s_render_observability > "$work/observability.yaml" || failures=$((failures + 1))
  k8s_kubeconform "$work/observability.yaml" >&2 || failures=$((failures + 1))

  # The validator must reject every deliberately broken manifest, for the reason its "# expect:"
  # line names; one that passes means the validation has stopped validating.
  local broken expected rejected=0
  for broken in "$K8S_ROOT"/k8s/tests/invalid/*.yaml; do
    expected="$(sed -n 's/^# expect: //p' "$broken" | head -1)"
    if k8s_kubeconform "$broken" > "$work/broken.out" 2>&1; then
      k8s_fail "the broken manifest ${broken#"$K8S_ROOT"/} was accepted"
      failures=$((failures + 1))
    elif [[ -z "$expected" ]] || ! grep -qF -- "$expected" "$work/broken.out"; then
      k8s_fail "${broken#"$K8S_ROOT"/} was rejected, but not for '$expected':"
      cat "$work/broken.out" >&2
      failures=$((failures + 1))
    else
      rejected=$((rejected + 1))
    fi
  done
  echo "k8s: $rejected broken manifests rejected for the expected reason" >&2

  promtool check rules "$K8S_ROOT/k8s/observability/alerts.yaml" >&2 || failures=$((failures + 1))
  (cd "$K8S_ROOT/k8s/observability" && promtool test rules alerts_test.yaml) >&2 || failures=$((failures + 1))
  python3 -m json.tool "$K8S_ROOT/k8s/observability/grafana-dashboard.json" > /dev/null \
    || { k8s_fail "grafana-dashboard.json is not valid JSON"; failures=$((failures + 1)); }

  rm -rf "$work"
  if [[ $failures -gt 0 ]]; then
    k8s_fail "$failures validation step(s) failed"
    return 1
  fi
  echo "k8s: all overlays valid, broken manifests rejected, alert rules checked" >&2
}

k8s_render_observability() {
  "$K8S_BIN/kustomize" build "$K8S_ROOT/k8s/observability"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-}" in
    install) shift; k8s_install "$@" ;;
    bundle) k8s_bundle ;;
    image-opa) k8s_image_opa ;;
    image) shift; k8s_image "$@" ;;
    render) k8s_install && k8s_bundle && k8s_render "${2:?overlay name}" ;;
    validate) k8s_validate ;;
    *) echo "usage: $0 install [kustomize|kubeconform|promtool|opa]...|bundle|image-opa|image [MVN ARGS]|render OVERLAY|validate" >&2; exit 2 ;;
  esac
fi
