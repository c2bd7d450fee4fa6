#!/usr/bin/env bash
# Makes the bundle bench/gpu/run.sh needs on an NVIDIA machine that has no Node: this machine's `node` (debug
# symbols stripped), the built workspace packages and the npm packages the benchmarks load (bundle-files.mjs),
# Debian's Vulkan loader (libvulkan1, for the WebGPU EP's Dawn) and, with --cuda, onnxruntime's CUDA execution
# provider from npm. All of it goes into one tar.xz, split into parts of at most --part-mib MiB, because what
# travels to the GPU machine in one call (the working tree and the carried paths together) is limited: each call
# carries bench/gpu/dist/manifest.txt and one part; run.sh stages the parts and runs once it has them all.
#
#   bash bench/gpu/pack.sh [--cuda] [--part-mib 24] [--out bench/gpu/dist]
#
# Build first (`npm ci && npm run build`). Output: <out>/bundle.part-NN, <out>/manifest.txt (sha256 and size of
# each part and of the whole), <out>/contents.txt (what is inside, with sizes).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/bench/gpu/dist"
part_mib=24
cuda=0
# The CUDA EP from npm (checked 2026-12-03): onnxruntime-node ships none (its install script would fetch
# Microsoft.ML.OnnxRuntime.Gpu.Linux from NuGet), but com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9 (a Unity
# package on npm) carries libonnxruntime_providers_cuda.so and _shared.so of onnxruntime 1.29.0 built for CUDA 13
# (NEEDED: libcublasLt.so.13, libcublas.so.13, libcurand.so.10, libcudart.so.13). A provider only loads into the
# onnxruntime it was built with, so --cuda also carries onnxruntime-node@1.29.0's linux/x64 binaries, which
# run.sh puts in place of 1.30's for the CUDA runs.
CUDA_PKG=com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9
CUDA_ORT_NODE=onnxruntime-node@1.29.0
while [ $# -gt 0 ]; do
  case "$1" in
    --cuda) cuda=1; shift ;;
    --part-mib) part_mib=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "error: unknown option $1 (known: --cuda --part-mib N --out DIR)" >&2; exit 2 ;;
  esac
done
for tool in node xz tar split sha256sum strip; do
  command -v "$tool" >/dev/null || { echo "error: pack.sh needs $tool" >&2; exit 1; }
done

stage=$(mktemp -d /tmp/mor-gpu-pack.XXXXXX)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/node/bin" "$stage/app" "$stage/debs" "$out"
rm -f "$out"/bundle.part-* "$out/manifest.txt" "$out/contents.txt"

# 1. Node: the binary that builds and tests the project here, without its debug symbols.
strip --strip-debug -o "$stage/node/bin/node" "$(readlink -f "$(command -v node)")"
node_version=$(node -v)

# 2. The app: dist/ of the workspace packages, node_modules they load (paths relative to the repo root).
(cd "$root" && node bench/gpu/bundle-files.mjs) > "$stage/app-files.txt"
tar -C "$root" -cf - -T "$stage/app-files.txt" | tar -C "$stage/app" -xf -
rm "$stage/app-files.txt"
ort_version=$(node -p "require('$root/node_modules/onnxruntime-node/package.json').version")

# 3. Debian's Vulkan loader: Dawn dlopens libvulkan.so.1, which a bare CUDA image may lack.
if (cd "$stage/debs" && apt-get download libvulkan1 >/dev/null 2>&1); then
  vulkan=$(ls "$stage/debs")
else
  vulkan="none (apt-get download libvulkan1 failed: run apt-get update first)"
  echo "warning: $vulkan" >&2
fi

# 4. With --cuda: the CUDA provider and the onnxruntime-node it was built for (npm packages only).
cuda_note="not packed (pack.sh --cuda)"
if [ "$cuda" = 1 ]; then
  tmp="$stage/npm"
  mkdir -p "$tmp" "$stage/cuda/ort-node"
  (cd "$tmp" && npm pack --silent "$CUDA_PKG" "$CUDA_ORT_NODE" >/dev/null)
  tar -xzf "$tmp"/com.github.asus4.onnxruntime.linux-x64-gpu-*.tgz -C "$tmp" package/Plugins/Linux/x64
  mv "$tmp"/package/Plugins/Linux/x64/libonnxruntime_providers_{cuda,shared}.so "$stage/cuda/"
  rm -rf "$tmp/package"
  tar -xzf "$tmp"/onnxruntime-node-1.29.0.tgz -C "$tmp"
  mv "$tmp/package/bin/napi-v6/linux/x64"/* "$stage/cuda/ort-node/"
  rm -rf "$tmp"
  cuda_note="$CUDA_PKG providers (onnxruntime 1.29.0, CUDA 13) + $CUDA_ORT_NODE linux/x64 binaries"
fi

cat > "$stage/bundle.json" <<EOF
{ "node": "$node_version", "onnxruntimeNode": "$ort_version", "vulkan": "$vulkan", "cuda": "$cuda_note",
  "commit": "$(git -C "$root" rev-parse HEAD)", "packed": "$(date -u +%Y-%m-%dT%H:%M:%SZ)" }
EOF
(cd "$stage" && find . -type f -printf '%s %p\n' | sort -k2) > "$out/contents.txt"

# 5. One tar.xz, split into parts.
tar -C "$stage" -cf - node app debs bundle.json $([ "$cuda" = 1 ] && echo cuda) |
  xz -9 -T2 > "$out/bundle.tar.xz"
split -b "${part_mib}M" -d -a 2 "$out/bundle.tar.xz" "$out/bundle.part-"
{
  echo "# bench/gpu bundle: $(date -u +%Y-%m-%dT%H:%M:%SZ), node $node_version, onnxruntime-node $ort_version, cuda: $cuda_note"
  echo "whole $(sha256sum "$out/bundle.tar.xz" | cut -d' ' -f1) $(stat -c %s "$out/bundle.tar.xz")"
  for p in "$out"/bundle.part-*; do echo "part $(sha256sum "$p" | cut -d' ' -f1) $(stat -c %s "$p") $(basename "$p")"; done
} > "$out/manifest.txt"
rm "$out/bundle.tar.xz"

tree_bytes=$(cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 stat -c %s 2>/dev/null | awk '{s+=$1} END {print s}')
total=$(awk '$1 == "whole" {print $3}' "$out/manifest.txt")
parts=$(grep -c '^part ' "$out/manifest.txt")
echo "bundle: $((total / 1048576)) MiB in $parts part(s) of ≤ $part_mib MiB under ${out#"$root"/}/ (node $node_version, onnxruntime-node $ort_version; cuda: $cuda_note)"
echo "working tree that travels with each call: $((tree_bytes / 1048576)) MiB; tree + manifest + one part: ≤ $(((tree_bytes + part_mib * 1048576) / 1048576)) MiB (the device call's limit is 64 MiB)"
echo "run it: one call per part, each carrying ${out#"$root"/}/manifest.txt and that part, command 'bash bench/gpu/run.sh'"
