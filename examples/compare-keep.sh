#!/bin/bash
# compare-keep.sh CMPDIR DEST: keep what a finished (or partial) compare
# run needs for its report, small enough to commit: per run directory its
# config, plan.rec, elapsed, hv.rec, report.md and archive.rec without the
# bulky keys run-report does not read (pareto_grid, heads, curves, phases);
# then run-report over the kept runs into DEST/report.md, figures in
# DEST/plots (no confidence histograms: the exit outputs stay behind), and
# the surrogates' tau against archive size (surrogate-tau.sh) over the
# pooled weight-shared records of the NACHOS space into DEST/tau.tsv.
# Run again as more runs finish: the kept copy of a run is replaced.
# Issue 18.
set -eu -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
PATH=$here/../bin:$PATH
[ $# -eq 2 ] || { echo "usage: compare-keep.sh cmpdir dest" >&2; exit 64; }
src=$1 dest=$2
mkdir -p "$dest/runs"
args=()
# compare's order (runs.list: seed by seed, methods as --methods gave
# them), so the first method is run-report's reference for paired records
while read -r m s; do
	r=$m-s$s d=$src/runs/$m-s$s
	[ -s "$d/report.md" ] || continue
	k=$dest/runs/$r
	rm -rf "$k.tmp" && mkdir -p "$k.tmp"
	for f in config plan.rec elapsed hv.rec report.md; do
		[ -e "$d/$f" ] && cp "$d/$f" "$k.tmp/"
	done
	rec2json "$d/archive.rec" | jq -c 'del(.pareto_grid, .heads, .phases, .curve_loss,
	    .curve_acc, .curve_val_loss, .curve_val_acc, .exo)' | json2rec > "$k.tmp/archive.rec"
	rm -rf "$k" && mv "$k.tmp" "$k"
	args+=("$m=$k")
done < "$src/runs.list"
[ "${#args[@]}" -gt 0 ] || { echo "compare-keep.sh: no finished run in $src" >&2; exit 66; }
# (its warnings: the best EENNs' exit outputs stayed behind)
run-report --plots "$dest/plots" -o "$dest/report.md" "${args[@]}" 2> "$dest/.run-report.log" ||
	{ cat "$dest/.run-report.log" >&2; exit 70; }
rm -f "$dest/.run-report.log"
# The surrogates on the pooled archives of the weight-shared evaluations
# in the NACHOS space (nachos, random; EDANAS and AEBNAS have their own
# genomes, fine-tuned records other figures).
pool=$dest/pool.tmp.rec
cat "$dest"/runs/*/archive.rec | rec2json |
    jq -c 'select(.eval == "shared" and .space == "nachos")' | json2rec > "$pool"
[ ! -s "$pool" ] || "$here/surrogate-tau.sh" -n 12,25,50,100,200,400 "$pool" > "$dest/tau.tsv"
rm -f "$pool"
