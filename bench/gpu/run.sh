#!/usr/bin/env bash
# Runs the training and inference benchmarks (bench/train.mjs, bench/inference.mjs) through onnxruntime's CUDA
# and WebGPU execution providers on an NVIDIA machine without Node, from the bundle bench/gpu/pack.sh made.
# Writes into $OUT (else --out) run.log, summary.json and results.tar.gz (env.txt, train-<device>.{txt,err,json},
# inference-<device>.{txt,err,json}): the device call brings back at most 8 files.
#
#   bash bench/gpu/run.sh [--devices cuda,webgpu] [--shape mid|135m|tiny] [--dtypes fp32,fp16,q4]
#     [--threads N] [--limit-s 240] [--out DIR] [--stage-dir /var/tmp/mor-gpu] [--dry-run]
#
# The bundle comes in parts (pack.sh says how many): each call carries bench/gpu/dist/manifest.txt and one part;
# run.sh checks it against the manifest and keeps it in --stage-dir, which outlives the call while the machine
# stays warm. Until it has every part it stops after staging, saying which part to carry next; then it unpacks
# (once) and runs. `--devices cpu` runs the same benchmarks on the CPU EP (a check of the paths anywhere);
# `--dry-run` stages, unpacks, prints the commands and runs one tiny CPU training step instead of the benchmarks.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dist="$root/bench/gpu/dist"
out=${OUT:-/tmp/mor-gpu-out}
stage=/var/tmp/mor-gpu
devices=cuda,webgpu
shape=mid
dtypes=fp32,fp16,q4
threads=$(nproc)
limit=240
dry=0
while [ $# -gt 0 ]; do
  case "$1" in
    --devices) devices=$2; shift 2 ;;
    --shape) shape=$2; shift 2 ;;
    --dtypes) dtypes=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --limit-s) limit=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --stage-dir) stage=$2; shift 2 ;;
    --dry-run) dry=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "error: unknown option $1 (known: --devices --shape --dtypes --threads --limit-s --out --stage-dir --dry-run)" >&2; exit 2 ;;
  esac
done
case "$shape" in
  # SmolLM2-135M's shape (the issue's), a mid one, and a tiny one for path checks.
  135m) shape_args="--hidden 576 --layers 30 --heads 9 --kv-heads 3 --intermediate 1536 --vocab 49152 --batch 2 --seq 128 --steps 5 --warmup 2"
        infer_args="--hidden 576 --layers 30 --heads 9 --kv-heads 3 --intermediate 1536 --vocab 49152" ;;
  mid) shape_args="--hidden 512 --layers 8 --heads 8 --kv-heads 4 --intermediate 1376 --vocab 4096 --batch 8 --seq 128 --steps 10 --warmup 2"
       infer_args="--hidden 512 --layers 8 --heads 8 --kv-heads 4 --intermediate 1376" ;;
  tiny) shape_args="--hidden 64 --layers 2 --heads 4 --kv-heads 2 --intermediate 128 --vocab 384 --batch 2 --seq 16 --steps 2 --warmup 1"
        infer_args="--hidden 64 --layers 2 --heads 4 --kv-heads 2 --intermediate 128 --vocab 384 --prompt-tokens 16 --new-tokens 8" ;;
  *) echo "error: --shape takes 135m, mid or tiny, got $shape" >&2; exit 2 ;;
esac
mkdir -p "$out" "$stage/parts"
log() { echo "$*" | tee -a "$out/run.log"; }

# ---- 1. stage this call's part(s) ------------------------------------------------------------------------------
manifest="$dist/manifest.txt"
[ -f "$manifest" ] || { log "error: $manifest is missing: carry bench/gpu/dist/manifest.txt (bash bench/gpu/pack.sh makes it)"; exit 1; }
cp "$manifest" "$stage/manifest.txt.new"
if [ -f "$stage/manifest.txt" ] && ! cmp -s "$stage/manifest.txt" "$stage/manifest.txt.new"; then
  log "a new bundle (manifest changed): dropping the parts staged before"
  rm -rf "$stage/parts" "$stage/bundle"; mkdir -p "$stage/parts"
fi
mv "$stage/manifest.txt.new" "$stage/manifest.txt"
missing=()
while read -r kind sha size name; do
  [ "$kind" = part ] || continue
  if [ -f "$stage/parts/$name" ] && [ "$(sha256sum "$stage/parts/$name" | cut -d' ' -f1)" = "$sha" ]; then continue; fi
  if [ -f "$dist/$name" ]; then
    if [ "$(sha256sum "$dist/$name" | cut -d' ' -f1)" != "$sha" ]; then
      log "error: $dist/$name does not match the manifest (sha256): re-carry it"; exit 1
    fi
    cp "$dist/$name" "$stage/parts/$name" && log "staged $name ($size bytes)"
  else
    missing+=("$name")
  fi
done < "$stage/manifest.txt"
if [ ${#missing[@]} -gt 0 ]; then
  log "staged $(( $(grep -c '^part ' "$stage/manifest.txt") - ${#missing[@]} )) of $(grep -c '^part ' "$stage/manifest.txt") parts in $stage/parts; carry next: bench/gpu/dist/${missing[0]} (still missing: ${missing[*]})"
  exit 0
fi

# ---- 2. unpack once ----------------------------------------------------------------------------------------------
whole=$(awk '$1 == "whole" {print $2}' "$stage/manifest.txt")
bundle="$stage/bundle"
if [ "$(cat "$bundle/.sha256" 2>/dev/null)" != "$whole" ]; then
  rm -rf "$bundle"; mkdir -p "$bundle"
  got=$(cat "$stage"/parts/bundle.part-* | sha256sum | cut -d' ' -f1)
  [ "$got" = "$whole" ] || { log "error: the staged parts do not add up to the bundle (sha256 $got, manifest $whole)"; exit 1; }
  cat "$stage"/parts/bundle.part-* | xz -dc | tar -C "$bundle" -xf - || { log "error: unpacking the bundle failed"; exit 1; }
  echo "$whole" > "$bundle/.sha256"
  log "unpacked the bundle into $bundle"
fi
export PATH="$bundle/node/bin:$PATH"
# The app's files (node_modules, the packages' dist/) go into the working tree unless it has its own (this
# machine, where the bundle was packed).
if [ ! -e "$root/node_modules/@mor/engine" ]; then
  cp -a "$bundle/app/." "$root/" && log "installed the bundle's node_modules and dist/ into $root"
else
  log "using $root's own node_modules and dist/"
fi

# ---- 3. the environment ------------------------------------------------------------------------------------------
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"; echo "bundle: $(cat "$bundle/bundle.json" | tr -d '\n')"
  echo "node: $(node -v) ($(command -v node))"; echo "uname: $(uname -a)"; echo "cpus: $(nproc)"
  echo "nvidia-smi: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -3)"
  echo "libvulkan: $(ldconfig -p 2>/dev/null | grep -m1 'libvulkan.so.1' || echo 'not in ldconfig')"
} > "$out/env.txt"
# Dawn (WebGPU) needs libvulkan.so.1 and the NVIDIA ICD.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' && ls "$bundle"/debs/libvulkan1*.deb >/dev/null 2>&1; then
  dpkg -x "$bundle"/debs/libvulkan1*.deb "$stage/vulkan"
  export LD_LIBRARY_PATH="$stage/vulkan/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "libvulkan: from the bundle's $(basename "$bundle"/debs/libvulkan1*.deb)" >> "$out/env.txt"
fi
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"; echo "vulkan icd: $icd" >> "$out/env.txt"; break; fi
done

# CUDA: the providers of the bundle (onnxruntime 1.29.0) with the onnxruntime-node binaries they were built for,
# swapped in for the CUDA runs only; CUDA 13's libraries from the machine's Python wheels (nvidia-*).
ort_bin="$root/node_modules/onnxruntime-node/bin/napi-v6/linux/x64"
cuda_reason=""
use_cuda() {
  [ -d "$bundle/cuda" ] || { cuda_reason="the bundle has no CUDA provider (pack.sh --cuda)"; return 1; }
  [ -d "$ort_bin.orig" ] || cp -a "$ort_bin" "$ort_bin.orig"
  cp "$bundle"/cuda/ort-node/* "$bundle"/cuda/libonnxruntime_providers_*.so "$ort_bin/"
  local libs
  libs=$(python3 -c 'import nvidia; print(list(nvidia.__path__)[0])' 2>/dev/null)
  if [ -n "$libs" ]; then
    libs=$(find "$libs" -name 'lib*.so*' -printf '%h\n' 2>/dev/null | sort -u | paste -sd:)
    export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  echo "cuda libraries: ${libs:-none found in the nvidia packages of python3}" >> "$out/env.txt"
  (cd "$ort_bin" && ldd libonnxruntime_providers_cuda.so | grep 'not found') >> "$out/env.txt" 2>&1 || true
}
restore_ort() { if [ -d "$ort_bin.orig" ]; then rm -rf "$ort_bin"; mv "$ort_bin.orig" "$ort_bin"; fi; }

# ---- 4. the benchmarks -------------------------------------------------------------------------------------------
status=()
run_one() { # name, command…
  local name=$1; shift
  log "\$ $*"
  [ "$dry" = 1 ] && return 0
  timeout "$limit" "$@" > "$out/$name.txt" 2> "$out/$name.err"
  local rc=$?
  status+=("\"$name\": $rc")
  log "  -> rc $rc ($(tail -c 300 "$out/$name.err" | tr '\n' ' ' | cut -c1-200))"
}
cd "$root"
IFS=, read -r -a devs <<< "$devices"
for d in "${devs[@]}"; do
  if [ "$d" = cuda ] && ! use_cuda; then
    log "cuda: skipped: $cuda_reason"; status+=("\"cuda\": \"skipped: $cuda_reason\""); continue
  fi
  # shellcheck disable=SC2086
  run_one "train-$d" node bench/train.mjs --device "$d" --only mor,lora --dtypes "$dtypes" --threads "$threads" $shape_args --json "$out/train-$d.json"
  # shellcheck disable=SC2086
  run_one "inference-$d" node bench/inference.mjs --device "$d" --threads "$threads" --repeats 3 $infer_args --json "$out/inference-$d.json"
  [ "$d" = cuda ] && restore_ort
done
if [ "$dry" = 1 ]; then
  # Proves the paths: the bundle's node, modules and dist/ train one tiny step through fp32 and q4 on the CPU.
  timeout "$limit" node bench/train.mjs --device cpu --only mor --dtypes fp32,q4 --hidden 64 --layers 1 --heads 4 \
    --kv-heads 2 --intermediate 128 --vocab 384 --batch 1 --seq 16 --steps 1 --warmup 0 --threads 1 \
    --json "$out/dry-run.json" > "$out/dry-run.txt" 2> "$out/dry-run.err"
  rc=$?; status+=("\"dry-run\": $rc"); log "dry run (tiny CPU step through fp32 and q4): rc $rc"
fi
(IFS=,; echo "{ \"devices\": \"$devices\", \"shape\": \"$shape\", \"dtypes\": \"$dtypes\", \"results\": { ${status[*]} } }") > "$out/summary.json"
# One archive of the per-command files (the call brings back at most 8 files), beside run.log and summary.json.
(cd "$out" && files=$(ls | grep -v -e '^run.log$' -e '^summary.json$' -e '^results.tar.gz$') &&
  [ -n "$files" ] && tar -czf results.tar.gz $files && rm -f $files)
log "wrote $out: $(ls "$out" | tr '\n' ' ')"
