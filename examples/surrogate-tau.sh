#!/bin/bash
# surrogate-tau.sh [-s seed] [-n sizes] ARCHIVE... : the surrogates'
# cross-validated Kendall tau against the archive's size. The records of
# the archives (one search space: equal genome lengths) are pooled; for each
# size n (default 12,25,50,100,200 and all) a seeded random n of them go to
# surrogate-fit -m as (every model cross-validated, 5 folds) for the error
# (top1_ee_val) and the cost (avg_macs_val). Prints a TSV on stdout: n,
# target, model, tau (mean over folds), tau_std, rho (pooled out-of-fold
# Spearman), the model adaptive switching picked marked by "*". Issue 18.
set -eu -o pipefail
seed=1 sizes=12,25,50,100,200
while getopts hs:n: o; do
	case $o in
	h) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	s) seed=$OPTARG ;;
	n) sizes=$OPTARG ;;
	*) exit 64 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: surrogate-tau.sh [-s seed] [-n sizes] archive ..." >&2; exit 64; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat -- "$@" | rec2json | jq -c 'select(.genome and .top1_ee_val and .avg_macs_val)' > "$tmp/all.json"
total=$(wc -l < "$tmp/all.json")
[ "$(jq -r '"\(.space) \(.genome | length)"' "$tmp/all.json" | sort -u | wc -l)" -eq 1 ] ||
	{ echo "surrogate-tau.sh: the archives mix search spaces" >&2; exit 65; }
printf 'n\ttarget\tmodel\ttau\ttau_std\trho\n'
for n in ${sizes//,/ } all; do
	[ "$n" = all ] && n=$total
	[ "$n" -le "$total" ] || continue
	shuf -n "$n" --random-source=<(yes "$seed") "$tmp/all.json" | json2rec > "$tmp/s.rec"
	for t in top1_ee_val avg_macs_val; do
		e=; [ $t = top1_ee_val ] && e=--error
		if ! surrogate-fit -t $t $e -m as --folds 5 --seed "$seed" -o "$tmp/m.rec" "$tmp/s.rec" 2> "$tmp/log"; then
			printf '%s\t%s\t-\t-\t-\t-\t# %s\n' "$n" "$t" "$(tail -n 1 "$tmp/log")"
			continue
		fi
		rec2json "$tmp/m.rec" | jq -r --arg n "$n" --arg t "$t" '.kind as $k | .cv | to_entries[] |
		    [$n, $t, (.key + (if .key == $k then "*" else "" end)),
		     (.value.tau // "-"), (.value.tau_std // "-"), (.value.rho // "-")] | @tsv'
	done
done
