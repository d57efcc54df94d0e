#!/bin/sh
# The npm packages of the tests and benchmarks (tests/onnx/package.json:
# onnxruntime-node 1.16.3, which ships its native library; later versions
# download one at install time): installed into tests/onnx/node_modules
# from the lock file when missing. node and npm come from Debian's nodejs
# and npm packages where npm is not on PATH already.
dir=$(cd "$(dirname "$0")/onnx" && pwd) || exit 1
want=$(sed -n 's/.*"onnxruntime-node": "\(.*\)".*/\1/p' "$dir/package.json")
have=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' \
    "$dir/node_modules/onnxruntime-node/package.json" 2>/dev/null)
[ -n "$want" ] && [ "$have" = "$want" ] && exit 0
if ! command -v npm > /dev/null 2>&1; then
	sh "$(dirname "$0")/deps.sh" nodejs npm || exit 1
fi
echo "deps: npm ci in $dir (onnxruntime-node $want)" >&2
cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2
