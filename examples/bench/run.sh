#!/bin/sh
# make bench: every benchmark script, one after the other.
set -e
cd "$(dirname "$0")"
sh ./records.sh
sh ./thresh.sh
sh ./train.sh
sh ./parity.sh
sh ./infer.sh
sh ./onnx.sh
sh ./export.sh
sh ./data.sh
