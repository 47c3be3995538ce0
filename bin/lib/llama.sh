# llama.cpp for Cleargate: an OpenAI-compatible server nobody here wrote (`bin/cleargate interop`) and the
# engine benchmark's peer (llama-bench, convert_hf_to_gguf.py). Built from the llama.cpp that the
# llama-cpp-python sdist vendors, with Debian's cmake and gcc, into tools/llama.cpp-<version>/ (git-ignored,
# kept between runs). Only the targets asked for are built. Source this file; functions take the repository
# root from CLEARGATE_ROOT (or the caller's ROOT).
#
#   llama_install [TARGET...]   builds the targets (default: llama-server llama-bench) unless present;
#                               prints the install directory: bin/<target> and src/ (convert_hf_to_gguf.py)
#   llama_convert HF_DIR OUT.gguf [OUTTYPE]   converts a Hugging Face checkpoint with llama.cpp's converter

LLAMA_CPP_PYTHON_VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"

_llama_root() {
  printf '%s' "${CLEARGATE_ROOT:-${ROOT:?set ROOT or CLEARGATE_ROOT to the repository root}}"
}

_llama_dir() {
  printf '%s/tools/llama.cpp-%s' "$(_llama_root)" "$LLAMA_CPP_PYTHON_VERSION"
}

# Unpacks the vendored llama.cpp from the sdist into DIR/src (downloads the sdist once into DIR).
_llama_source() {
  local dir="$1" v="$LLAMA_CPP_PYTHON_VERSION" sdist
  [[ -f "$dir/src/CMakeLists.txt" ]] && return 0
  mkdir -p "$dir"
  sdist="$dir/llama_cpp_python-$v.tar.gz"
  if [[ ! -f "$sdist" ]]; then
    echo "cleargate: downloading the llama-cpp-python $v sdist (it vendors llama.cpp)" >&2
    python3 -m pip download -q --no-deps --no-binary :all: -d "$dir" "llama-cpp-python==$v" >&2 || return 1
  fi
  rm -rf "$dir/src.tmp" && mkdir -p "$dir/src.tmp"
  tar -xzf "$sdist" -C "$dir/src.tmp" --strip-components=3 "llama_cpp_python-$v/vendor/llama.cpp" || return 1
  mv "$dir/src.tmp" "$dir/src"
}

llama_install() {
  local dir targets missing=() t
  dir="$(_llama_dir)"
  targets=("$@")
  ((${#targets[@]})) || targets=(llama-server llama-bench)
  for t in "${targets[@]}"; do [[ -x "$dir/bin/$t" ]] || missing+=("$t"); done
  if ((${#missing[@]})); then
    command -v cmake >/dev/null && command -v g++ >/dev/null || {
      echo "cleargate: llama.cpp needs cmake and g++ (apt-get install cmake g++)" >&2
      return 1
    }
    _llama_source "$dir" || { echo "cleargate: could not get the llama.cpp source" >&2; return 1; }
    local gen=()
    command -v ninja >/dev/null && gen=(-G Ninja)
    # Static binaries (nothing to find at run time); no web UI (it would be fetched or built with npm),
    # no HTTPS (loopback only), no tests or examples.
    if [[ ! -f "$dir/build/CMakeCache.txt" ]]; then
      cmake -S "$dir/src" -B "$dir/build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON \
        -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF \
        -DLLAMA_CURL=OFF >&2 || return 1
    fi
    echo "cleargate: building ${missing[*]} from llama.cpp (first time: many minutes on two cores)" >&2
    cmake --build "$dir/build" --target "${missing[@]}" -j "${LLAMA_JOBS:-2}" >&2 || return 1
    mkdir -p "$dir/bin"
    for t in "${missing[@]}"; do cp "$dir/build/bin/$t" "$dir/bin/$t"; done
  fi
  printf '%s\n' "$dir"
}

# A venv with llama.cpp's converter requirements (CPU-only torch), kept in the install directory.
_llama_convert_python() {
  local dir venv
  dir="$(_llama_dir)"
  venv="$dir/convert-venv"
  if [[ ! -f "$venv/.ready" ]]; then
    _llama_source "$dir" || return 1
    python3 -m venv "$venv" >&2 || return 1
    # The requirements file names the CPU-only index for torch itself.
    "$venv/bin/pip" install -q -r "$dir/src/requirements/requirements-convert_hf_to_gguf.txt" >&2 || return 1
    touch "$venv/.ready"
  fi
  printf '%s\n' "$venv/bin/python"
}

llama_convert() {
  local hf="$1" out="$2" outtype="${3:-f32}" py dir
  dir="$(_llama_dir)"
  py="$(_llama_convert_python)" || return 1
  "$py" "$dir/src/convert_hf_to_gguf.py" "$hf" --outfile "$out" --outtype "$outtype" >&2
}
