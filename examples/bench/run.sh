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
# the exported code also on the last make demo's best EENN, if there is one
sh ./export.sh $(ls -d "$(cd ../.. && pwd)"/runs/demo-*/export.rec 2> /dev/null | tail -n 1)
sh ./data.sh
