# bin/cleargate interop: the packaged gateway in front of llama.cpp's llama-server, an OpenAI-compatible
# server nobody here wrote, serving the bundled model converted to GGUF (LlamaServerInteropIT). Kept out
# of `bin/cleargate test`: the first run builds llama.cpp (about 15 minutes on two cores; cached in
# tools/ afterwards, see bin/lib/llama.sh), which would push the suite past its time budget.
cleargate_interop() {
  find_java25
  local dir gguf
  dir="$(llama_install llama-server)" || die "could not build llama-server"
  gguf="$dir/models/cleargate-tiny-moe-f32.gguf"
  if [[ ! -f "$gguf" ]]; then
    mkdir -p "$dir/models"
    say "converting models/cleargate-tiny-moe to GGUF with llama.cpp's convert_hf_to_gguf.py"
    llama_convert "$ROOT/models/cleargate-tiny-moe" "$gguf.tmp" f32 || die "could not convert the bundled model"
    mv "$gguf.tmp" "$gguf"
  fi
  say "the gateway in front of llama-server (LlamaServerInteropIT)"
  "$ROOT/mvnw" -B verify -Dtest=skip -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=LlamaServerInteropIT \
    -Dinterop.llama-server="$dir/bin/llama-server" -Dinterop.gguf="$gguf"
}
