# lib.sh - shell functions shared by the search pipelines (nachos, and the
# edanas, aebnas and random variants): settings and presets, the run
# directory, the training job runner (GNU parallel, local or over ssh), the
# append-only archive, failures, hypervolume, resume. Sourced by bash.
#
# Run directory (every path below is relative to it; the pipelines cd there):
#   config             the resolved settings, KEY='value' lines (sourceable)
#   job.sh             the train-and-tune job of one candidate: sh job.sh ID
#   supernet.ckpt      the supernet (or a symlink to --supernet FILE)
#   archive.rec        result records of every completed candidate, appended
#                      whole (rewrite and rename: a kill loses nothing in it)
#   failed.rec         the eenn records of failed candidates, with the reason
#   hv.rec             hypervolume per iteration (pareto --hv), rewritten
#   iter/N/            one search iteration: eenn.rec (its candidates), ids,
#                      models and logs of the steps that chose them
#   cand/ID/           one candidate: eenn.rec, train.rec, train.log,
#                      weights.ckpt, exo.rec, result.rec, status
#   logs/              nachos.log (the progress lines), joblog-N (parallel)
#   plots/             front.png (validation), front-test.png
#   report.md          the final report
#   rates.rec, plan.rec, probe/   with --budget: the measured throughput,
#                      the plan budget-plan made of it, the probes' logs;
#                      budget.cut, the candidates the deadline cut
#
# A pipeline sets NL_KEYS (its settings), parses its own options with nl_set
# and the common ones with nl_opt, nl_rundir_args, loads a preset
# (nl_preset) or the saved config, nl_apply, checks (nl_check_common and its
# own), nl_open_rundir (which cds into the run directory and saves the
# config); then nl_supernet, sets NL_TRAIN and NL_TUNE and
# calls nl_write_job; then per iteration N: its candidates (eenn records) into
# nl_split N, nl_train N (which appends to the archive), nl_hv; at the end
# nl_report. nl_last_iter tells where a resumed run stands. With --budget,
# nl_budget (after nl_write_job) measures, plans and trains the supernet,
# and nl_out_of_time at the top of each iteration stops the search in time.

NL_PROG=${NL_PROG:-${0##*/}}
# libgomp threads spin between ops; with jobs sharing the cores a short spin
# keeps a two-thread job from starving its neighbour (lib/nn.h has figures).
export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-10000}
NL_START=$(date +%s)

nl_log() {
	local line
	line="$NL_PROG: $*"
	printf '%s\n' "$line" >&2
	[ -d logs ] && printf '%s %s\n' "$(date -u +%H:%M:%S)" "$line" >> logs/$NL_PROG.log
	return 0
}

# nl_die CODE MESSAGE: the sysexits codes of man 7 nachos.
nl_die() {
	local code=$1
	shift
	nl_log "$*"
	exit "$code"
}

# nl_run CMD...: run a step, its stderr to the log; die with its status.
nl_run() {
	"$@" || nl_die $? "$1 failed (exit $?), see logs/$NL_PROG.log"
}

# --- settings ---------------------------------------------------------------
# Settings are shell variables named in NL_KEYS. Options given on the command
# line are kept in NL_SET (KEY=value lines) and applied after the preset or
# the saved config, so options always override them.

NL_SET=

# nl_set KEY VALUE: an option's value, applied by nl_apply.
nl_set() { NL_SET+="$1=$2"$'\n'; }

# nl_given KEY: the option of KEY was given.
nl_given() { grep -q "^$1=" <<< "$NL_SET"; }

nl_apply() {
	local kv
	while IFS= read -r kv; do
		[ -n "$kv" ] && printf -v "${kv%%=*}" '%s' "${kv#*=}"
	done <<< "$NL_SET"
}

# nl_preset_file NAME|FILE: the file of a preset, a file of KEY=value shell
# assignments: FILE itself, $NACHOS_PRESETS/NAME.conf or examples/NAME.conf
# next to the pipelines.
nl_preset_file() {
	local d
	[ -f "$1" ] && { echo "$1"; return; }
	for d in ${NACHOS_PRESETS:-} "$NL_DIR/../examples" "$NL_DIR/../share/nachos/examples"; do
		[ -f "$d/$1.conf" ] && { echo "$d/$1.conf"; return; }
	done
	nl_die 64 "--preset: no preset \"$1\""
}

# nl_preset NAME|FILE: apply a preset.
nl_preset() {
	local f
	f=$(nl_preset_file "$1") || exit
	# shellcheck disable=SC1090
	. "$f" || nl_die 64 "--preset: $f: not a valid preset"
}

# nl_save_config: the resolved settings, sourceable.
nl_save_config() {
	local k v
	{
		echo "# $NL_PROG run settings, resolved (preset, then options); $(date -u +%FT%TZ)"
		for k in $NL_KEYS; do v=${!k-}; printf "%s='%s'\n" "$k" "${v//\'/\'\\\'\'}"; done
	} > config.tmp && mv config.tmp config
}

# --- hardware: the width of the space and the memory limits -----------------
# Settings NL_HW_KEYS (a pipeline appends them to NL_KEYS): WIDTH, the width
# multiplier of the supernet and of every sampled network; FLASH_MAX,
# SRAM_MAX, HW_TARGET and MEM_DTYPE, the limits of lib/hw (--flash-max,
# --sram-max, --target, --mem-dtype of the tools), given to ofa-sample,
# nsga-step, thresh-tune and pareto, so no candidate that breaks them is
# sampled, proposed, trained or called admissible.
#
# COST (--cost macs|latency), LATENCY (--latency TABLE) and LAT_MAX
# (--lat-max MS): the cost the search weighs (nachos-method(7) §2), MACs, or
# the exits' latency predicted by a lat-table table, F_M and its constraint
# then in milliseconds (LAT_MAX instead of MACS_MAX). Without --latency the
# run measures its table on this machine (lat.rec, nl_cost), for the space
# NL_SPACE (a pipeline whose space is not nachos's sets it first).
NL_HW_KEYS="WIDTH FLASH_MAX SRAM_MAX HW_TARGET MEM_DTYPE COST LATENCY LAT_MAX"
WIDTH=1.0 FLASH_MAX= SRAM_MAX= HW_TARGET= MEM_DTYPE=int8 COST=macs LATENCY= LAT_MAX=
NL_HW_USAGE="[--width w] [--flash-max bytes] [--sram-max bytes] [--target board]
              [--mem-dtype int8|f32] [--cost macs|latency] [--latency table]
              [--lat-max ms]"

# --- evaluation: fine-tuning or weight sharing --------------------------------
# Settings NL_EVAL_KEYS (a pipeline appends them to NL_KEYS): EVAL, finetune
# (every candidate trained by the pipeline's trainer, today's way) or shared
# (eenn-train --eval shared: the supernet's EENN with its heads, SHARED_MU
# epochs of the head phases on cached features; seconds a candidate);
# FINAL K: after a shared search, the admissible front's top K (validation
# accuracy first) fine-tuned by the pipeline's trainer into final/ID/, both
# figures in the report (nl_final).
NL_EVAL_KEYS="EVAL SHARED_MU FINAL"
EVAL=finetune SHARED_MU=1,1 FINAL=0
NL_EVAL_USAGE="[--eval finetune|shared] [--shared-mu m2,m3] [--final k]"

# nl_hw_set OPTION VALUE: the setting of one of the options above; 1 if
# OPTION is not one of them.
nl_hw_set() {
	case $1 in
	--width) nl_set WIDTH "$2" ;;
	--flash-max) nl_set FLASH_MAX "$2" ;;
	--sram-max) nl_set SRAM_MAX "$2" ;;
	--target) nl_set HW_TARGET "$2" ;;
	--mem-dtype) nl_set MEM_DTYPE "$2" ;;
	--cost) nl_set COST "$2" ;;
	--latency) nl_set LATENCY "$2" ;;
	--lat-max) nl_set LAT_MAX "$2" ;;
	*) return 1 ;;
	esac
}

# nl_hw: check the settings (the tools' own parser judges the limits, so the
# pipeline and the tools agree; exit 64 on a bad one) and set NL_LIMITS, the
# limit options every tool that takes them gets.
nl_hw() {
	local t msg
	nl_num --width "$WIDTH" num
	NL_LIMITS=()
	[ -n "$FLASH_MAX" ] && NL_LIMITS+=(--flash-max "$FLASH_MAX")
	[ -n "$SRAM_MAX" ] && NL_LIMITS+=(--sram-max "$SRAM_MAX")
	[ -n "$HW_TARGET" ] && NL_LIMITS+=(--target "$HW_TARGET")
	[ ${#NL_LIMITS[@]} -gt 0 ] && NL_LIMITS+=(--mem-dtype "$MEM_DTYPE")
	t=$(command -v ofa-sample || echo "$NL_DIR/../bin/ofa-sample")
	msg=$("$t" -n 0 --width "$WIDTH" --resolution "$RESOLUTION" --mem-dtype "$MEM_DTYPE" \
	    "${NL_LIMITS[@]}" 2>&1 > /dev/null) ||
	    nl_die 64 "${msg#ofa-sample: }"
	case $COST in
	macs)
		[ -z "$LAT_MAX" ] || nl_die 64 "--lat-max: a latency constraint, only with --cost latency"
		[ -z "$LATENCY" ] || nl_die 64 "--latency: the table of --cost latency; give that too"
		NL_COST_KEY=avg_macs_val ;;
	latency)
		! nl_given MACS_MAX ||
		    nl_die 64 "--macs-max constrains MACs; with --cost latency the constraint is --lat-max (ms)"
		[ -z "$LAT_MAX" ] || nl_num --lat-max "$LAT_MAX" num
		# the constraint is the latency's: no MACs one beside it
		MACS_MAX=
		NL_COST_KEY=avg_latency_val
		# a table of another machine, input or space: refused before a run
		# directory exists, in mac-count's words
		if [ -n "$LATENCY" ]; then
			[ -r "$LATENCY" ] || nl_die 66 "--latency: cannot read $LATENCY"
			msg=$("$t" -n 1 --space "${NL_SPACE:-nachos}" --width "$WIDTH" --resolution "$RESOLUTION" \
			    --in-ch "${IN_CH:-$(nl_in_ch)}" --classes "$CLASSES" 2> /dev/null |
			    "$(command -v mac-count || echo "$NL_DIR/../bin/mac-count")" -f rec \
			    --latency "$LATENCY" 2>&1 > /dev/null) ||
			    nl_die 65 "--latency: ${msg#mac-count: }"
		fi ;;
	*) nl_die 64 "--cost: \"$COST\" is not macs or latency" ;;
	esac
}

# nl_cost: the cost options of the tools, after nl_open_rundir: NL_COST_TRAIN
# (eenn-train, thresh-tune), NL_COST_NSGA (nsga-step, whose cost model
# predicts it) and NL_CONS's share; with --cost latency and no --latency,
# the run's own table measured here once (lat.rec).
nl_cost() {
	if [ "$COST" = macs ]; then
		NL_COST_TRAIN=(--macs-max "$MACS_MAX")
		NL_COST_NSGA=(--macs-max "$MACS_MAX")
		return 0
	fi
	if [ -z "$LATENCY" ]; then
		if [ ! -s lat.rec ]; then
			nl_log "measuring the latency table: lat-table (log: logs/lat-table.log)"
			lat-table --space "${NL_SPACE:-nachos}" --width "$WIDTH" --resolution "$RESOLUTION" --in-ch "$IN_CH" \
			    --classes "$CLASSES" > lat.rec.tmp 2>> logs/lat-table.log &&
			    mv lat.rec.tmp lat.rec || nl_die 70 "lat-table failed, see logs/lat-table.log"
		fi
		LATENCY=lat.rec
	fi
	NL_COST_TRAIN=(--cost latency --latency "$LATENCY" ${LAT_MAX:+--lat-max "$LAT_MAX"})
	NL_COST_NSGA=(--cost latency ${LAT_MAX:+--lat-max "$LAT_MAX"})
	NL_BASEFILES+=" $LATENCY"
}

# nl_lat_max: die 64 unless a --cost latency search has its constraint.
nl_lat_max() {
	[ "$COST" = macs ] || [ -n "$LAT_MAX" ] ||
	    nl_die 64 "--cost latency: needs --lat-max ms (the constraint on F_M)"
}

# nl_cost_describe: the cost constraint in words.
nl_cost_describe() {
	if [ "$COST" = latency ]; then
		echo "average latency ≤ ${LAT_MAX:-none} ms (predicted by the table $LATENCY, $(rec2json "$LATENCY" | jq -r '.cpu'))"
	else
		echo "average MACs ≤ ${MACS_MAX:-none}"
	fi
}

# nl_rejected: networks the limits rejected so far, as ofa-sample and
# nsga-step counted them in their logs.
nl_rejected() {
	cat logs/ofa-sample.log iter/*/nsga-step.log 2> /dev/null |
	    sed -n 's/^[a-z-]*: rejected \([0-9]*\) .*/\1/p' | awk '{ s += $1 } END { print s + 0 }'
}

# nl_hw_describe: the limits in words, for the log and the report.
nl_hw_describe() {
	if [ ${#NL_LIMITS[@]} -eq 0 ]; then
		echo "no memory limits"
	else
		echo "${FLASH_MAX:+flash ≤ $FLASH_MAX, }${SRAM_MAX:+SRAM ≤ $SRAM_MAX, }${HW_TARGET:+target $HW_TARGET, }weights and activations at $MEM_DTYPE"
	fi
}

# nl_num NAME VALUE KIND: check a setting (int, num, frac, list) or die 64.
nl_num() {
	local re
	case $3 in
	int) re='^[0-9]+$' ;;
	num) re='^[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$' ;;
	frac) re='^(0(\.[0-9]*)?|1(\.0*)?|\.[0-9]+)$' ;;
	list) re='^[0-9.eE+-]+(,[0-9.eE+-]+)*$' ;;
	esac
	[[ $2 =~ $re ]] || nl_die 64 "$1: \"$2\" is not a valid value"
}

# nl_path PATH: absolute, unless it lies inside the run directory (then
# relative to it, so the run directory can move and files travel to remote
# workdirs under the same name). Call from the run directory's parent context
# with NL_RUNDIR_ABS set.
nl_path() {
	local p=$1 a
	case $p in none | "") echo "$p"; return ;; esac
	a=$(realpath -m -- "$p")
	case $a in "$NL_RUNDIR_ABS"/*) echo "${a#"$NL_RUNDIR_ABS"/}" ;; *) echo "$a" ;; esac
}

# --- the run directory skeleton every search shares ---------------------------
# A search script parses its own options first and hands the others to
# nl_opt; then nl_rundir_args, its config or preset, nl_apply, its own
# checks beside nl_check_common, and nl_open_rundir. The variables rundir,
# resume and preset, and $usage, are the script's.

# nl_need OPTION [VALUE]: exit 64 unless the option has its value.
nl_need() { [ $# -ge 2 ] || { echo "$NL_PROG: $1 needs a value" >&2; echo "$usage" >&2; exit 64; }; }

# nl_opt ARGS...: an option every search takes, or the run directory;
# NL_SHIFT gets the words it used. Anything else starting with - exits 64.
nl_opt() {
	NL_SHIFT=2
	case $1 in
	-h | --help) echo "$usage"; exit 0 ;;
	--preset) nl_need "$@"; preset=$2 ;;
	--resume) nl_need "$@"; resume=$2 ;;
	--data) nl_need "$@"; nl_set DATA "$2" ;;
	--supernet) nl_need "$@"; nl_set SUPERNET "$2" ;;
	--ofa-args) nl_need "$@"; nl_set OFA_ARGS "$2" ;;
	--classes) nl_need "$@"; nl_set CLASSES "$2" ;;
	--resolution) nl_need "$@"; nl_set RESOLUTION "$2" ;;
	--seed) nl_need "$@"; nl_set SEED "$2" ;;
	--n-start) nl_need "$@"; nl_set N_START "$2" ;;
	--iterations) nl_need "$@"; nl_set ITERATIONS "$2" ;;
	--patience) nl_need "$@"; nl_set PATIENCE "$2" ;;
	-k | --k) nl_need "$@"; nl_set K "$2" ;;
	--pop) nl_need "$@"; nl_set POP "$2" ;;
	--gens) nl_need "$@"; nl_set GENS "$2" ;;
	--surrogate) nl_need "$@"; nl_set SUR_MODEL "$2" ;;
	--folds) nl_need "$@"; nl_set SUR_FOLDS "$2" ;;
	--acc-min) nl_need "$@"; nl_set ACC_MIN "$2" ;;
	--macs-max) nl_need "$@"; nl_set MACS_MAX "$2" ;;
	--mu) nl_need "$@"; nl_set MU "$2" ;;
	--subset) nl_need "$@"; nl_set SUBSET "$2" ;;
	--batch) nl_need "$@"; nl_set BATCH "$2" ;;
	--lr) nl_need "$@"; nl_set LR "$2" ;;
	--train-args) nl_need "$@"; nl_set TRAIN_ARGS "$2" ;;
	--grid) nl_need "$@"; nl_set GRID "$2" ;;
	--tune-args) nl_need "$@"; nl_set TUNE_ARGS "$2" ;;
	-j | --jobs) nl_need "$@"; nl_set JOBS "$2" ;;
	--threads) nl_need "$@"; nl_set THREADS "$2" ;;
	--sshloginfile) nl_need "$@"; nl_set SSHLOGINFILE "$(realpath -m -- "$2")" ;;
	--remote-bin) nl_need "$@"; nl_set REMOTE_BIN "$2" ;;
	--budget) nl_need "$@"; nl_set BUDGET "$2" ;;
	--width | --flash-max | --sram-max | --target | --mem-dtype | --cost | --latency | --lat-max) nl_need "$@"; nl_hw_set "$1" "$2" ;;
	--eval) nl_need "$@"; nl_set EVAL "$2" ;;
	--shared-mu) nl_need "$@"; nl_set SHARED_MU "$2" ;;
	--final) nl_need "$@"; nl_set FINAL "$2" ;;
	-*) echo "$NL_PROG: unknown option $1" >&2; echo "$usage" >&2; exit 64 ;;
	*) [ -z "$rundir" ] || { echo "$NL_PROG: one run directory only" >&2; exit 64; }
	   rundir=$1 NL_SHIFT=1 ;;
	esac
}

# nl_rundir_args [WORDS after --]: the run directory, new or --resume'd,
# and NL_RUNDIR_ABS.
nl_rundir_args() {
	[ $# -eq 0 ] || { [ -z "$rundir" ] && [ $# -eq 1 ] && rundir=$1; } ||
		{ echo "$usage" >&2; exit 64; }
	if [ -n "$resume" ]; then
		[ -z "$rundir" ] || [ "$rundir" = "$resume" ] ||
		    { echo "$NL_PROG: --resume names the run directory" >&2; exit 64; }
		[ -z "$preset" ] || { echo "$NL_PROG: --preset with --resume: the run keeps its settings" >&2; exit 64; }
		[ -f "$resume/config" ] || { echo "$NL_PROG: $resume: no config, not a run directory" >&2; exit 66; }
		rundir=$resume
	else
		[ -n "$rundir" ] || { echo "$usage" >&2; exit 64; }
		if [ -e "$rundir/config" ]; then
			echo "$NL_PROG: $rundir holds a run already; continue it with --resume $rundir" >&2
			exit 73
		fi
	fi
	NL_RUNDIR_ABS=$(realpath -m -- "$rundir")
}

# nl_check_common: the values of the settings every search has.
nl_check_common() {
	local k
	for k in CLASSES RESOLUTION SEED N_START ITERATIONS PATIENCE K POP GENS SUR_FOLDS BATCH \
	    JOBS; do
		nl_num "--$(echo "$k" | tr 'A-Z_' 'a-z-')" "${!k}" int
	done
	for k in SUBSET THREADS IN_CH; do [ -z "${!k}" ] || nl_num "--$(echo "$k" | tr 'A-Z_' 'a-z-')" "${!k}" int; done
	nl_num --acc-min "$ACC_MIN" frac
	[ "${COST-}" = latency ] || nl_num --macs-max "$MACS_MAX" num
	nl_num --lr "$LR" num
	nl_num --mu "$MU" list
	[ "$(echo "$MU" | tr , '\n' | wc -l)" -eq 3 ] || nl_die 64 "--mu: three epochs counts, μ1,μ2,μ3"
	[ "$N_START" -ge 2 ] || nl_die 64 "--n-start: at least 2 (the all-min and all-max networks)"
	[ "$RESOLUTION" -ge 16 ] && [ "$RESOLUTION" -le 1024 ] ||
	    nl_die 64 "--resolution: $RESOLUTION is not in 16 ... 1024"
	[ "$K" -ge 1 ] || nl_die 64 "-k: at least 1"
	[ "$JOBS" -ge 1 ] || nl_die 64 "-j: at least 1"
	[ -z "$SSHLOGINFILE" ] || [ -r "$SSHLOGINFILE" ] || nl_die 66 "--sshloginfile: cannot read $SSHLOGINFILE"
	case $EVAL in finetune | shared) ;; *) nl_die 64 "--eval: \"$EVAL\" is not finetune or shared" ;; esac
	nl_num --shared-mu "$SHARED_MU" list
	[ "$(echo "$SHARED_MU" | tr , '\n' | wc -l)" -eq 2 ] || nl_die 64 "--shared-mu: two epoch counts, μ2,μ3"
	nl_num --final "$FINAL" int
	[ "$EVAL" = finetune ] || [ "$SUPERNET" != none ] ||
	    nl_die 64 "--eval shared: evaluates the supernet's EENNs (not --supernet none)"
	[ "$FINAL" -eq 0 ] || [ "$EVAL" = shared ] ||
	    nl_die 64 "--final: fine-tunes a shared search's front (--eval shared); these candidates are fine-tuned already"
	nl_hw
	nl_budget_check
}

# nl_in_ch: the input channels of DATA: IDX sets (MNIST, Fashion-MNIST) are
# grey; CIFAR-style sets colour.
nl_in_ch() { if ls "$DATA"/*idx3-ubyte* > /dev/null 2>&1; then echo 1; else echo 3; fi; }

# nl_open_rundir WHAT: paths as the run directory sees them (a resumed
# run's are so already), into the run directory under its lock (WHAT names
# the other holder in the message), the tools found, the input channels,
# the config saved.
nl_open_rundir() {
	local t
	if [ -z "$resume" ] || nl_given DATA; then
		[ -d "$DATA" ] || nl_die 66 "--data: $DATA: no such directory"
		DATA=$(nl_path "$DATA")
	fi
	if [ -n "$SUPERNET" ] && [ "$SUPERNET" != none ] && { [ -z "$resume" ] || nl_given SUPERNET; }; then
		[ -r "$SUPERNET" ] || nl_die 66 "--supernet: cannot read $SUPERNET"
		SUPERNET=$(nl_path "$SUPERNET")
	fi
	if [ -n "${LATENCY-}" ] && { [ -z "$resume" ] || nl_given LATENCY; }; then
		LATENCY=$(nl_path "$LATENCY")
	fi
	mkdir -p "$rundir" || nl_die 73 "cannot create $rundir"
	cd "$rundir" || nl_die 73 "cannot enter $rundir"
	# One pipeline per run directory: the lock lives as long as this
	# process or any job it started (they inherit it), so a resume waits
	# for no stray job.
	exec 9>> .lock
	flock -n 9 || nl_die 73 "$rundir is in use by another $1 (or its jobs still run)"
	mkdir -p cand iter logs plots
	for t in ofa-sample eec-place eenn-train thresh-tune surrogate-fit nsga-step pareto budget-plan rec2json json2rec parallel jq; do
		command -v "$t" > /dev/null ||
		    { [ -x "$NL_DIR/../bin/$t" ] && PATH="$(cd "$NL_DIR/../bin" && pwd):$PATH"; } ||
		    nl_die 66 "$t: not found on PATH"
	done
	[ -n "$IN_CH" ] || IN_CH=$(nl_in_ch)
	# Under a budget the deadline ends the search, not the preset's
	# patience (sized for its fixed iterations: two stale iterations of two
	# candidates stopped searches at half their budget); --patience still
	# does. Saved in the config, so a resumed run keeps it.
	[ -z "$resume" ] && [ -n "${BUDGET-}" ] && ! nl_given PATIENCE && PATIENCE=0
	nl_save_config
	nl_repair archive.rec failed.rec hv.rec
	nl_log "run directory $PWD (${resume:+resumed, }preset ${PRESET:-none})"
	NL_ELAPSED0=$(cat elapsed 2> /dev/null || echo 0)
}

# --- records ----------------------------------------------------------------

# nl_ids FILE: the id of each record, one a line.
nl_ids() { [ -s "$1" ] && rec2json "$1" | jq -r .id; return 0; }

# nl_count FILE: records in FILE.
nl_count() { if [ -s "$1" ]; then rec2json "$1" | wc -l; else echo 0; fi; }

# nl_commit TMP DEST: TMP's bytes on disk, then TMP renamed over DEST and the
# directory synced: a kill or a crash leaves DEST old or new, never torn.
nl_commit() {
	sync -- "$1" && mv -f -- "$1" "$2" && sync -- "$(dirname -- "$2")"
}

# nl_repair FILE...: a record file with a torn tail (a crash of the machine,
# or of a version that appended in place) is cut back to its whole records;
# the torn file is kept aside as FILE.torn-TIME and the repair logged. Any
# other damage stops the run (65) with the file untouched.
nl_repair() {
	local f err keep aside
	for f; do
		[ -s "$f" ] || continue
		err=$(rec2json "$f" 2>&1 > /dev/null) && continue
		[[ $err == *": truncated"* ]] || nl_die 65 "$f is damaged: $err"
		rec2json "$f" 2> /dev/null | json2rec > "$f.repaired"
		keep=$(wc -c < "$f.repaired")
		# The JSON round trip gives back the bytes of what nachos writes:
		# the whole records are kept exactly or not at all.
		cmp -s -n "$keep" "$f.repaired" "$f" ||
		    nl_die 65 "$f: $err; its whole records do not read back exactly, repair it by hand"
		aside=$f.torn-$(date -u +%Y%m%dT%H%M%S)
		ln -f -- "$f" "$aside" && nl_commit "$f.repaired" "$f" ||
		    nl_die 74 "$f: cannot replace it with its whole records"
		nl_log "${err#rec2json: }; kept its $(nl_count "$f") whole record(s) ($keep of $(wc -c < "$aside") bytes), the torn file is $aside"
	done
}

# nl_addkeys JQ-EXPR < records > records: set keys through jq.
nl_addkeys() { rec2json | jq -c "$1" | json2rec; }

# --- the supernet and the job of one candidate -------------------------------

# nl_supernet: train the run's supernet with ofa-train unless SUPERNET names
# one (or none); sets SUPERNET to the file the jobs use. ofa-train rewrites
# supernet.ckpt whole every epoch; its result record (supernet.rec) marks a
# finished run, so a killed one is continued with --resume.
nl_supernet() {
	if [ -z "$SUPERNET" ]; then
		if [ -n "${BUDGET-}" ] && [ -z "${NL_PLANNED-}" ] && [ ! -s supernet.rec ]; then
			NL_SUP_PENDING=1    # nl_budget trains it, to the plan's epochs
		elif [ ! -s supernet.rec ]; then
			if [ -s supernet.ckpt ]; then
				nl_log "continuing the supernet: ofa-train --resume (log: logs/ofa-train.log)"
				ofa-train --resume --data "$DATA" -o supernet.ckpt > supernet.rec.tmp 2>> logs/ofa-train.log
			else
				nl_log "training the supernet: ofa-train $OFA_ARGS (log: logs/ofa-train.log)"
				# shellcheck disable=SC2086
				ofa-train $OFA_ARGS --width "$WIDTH" --data "$DATA" --in-ch "$IN_CH" \
				    --resolution "$RESOLUTION" -o supernet.ckpt \
				    > supernet.rec.tmp 2>> logs/ofa-train.log
			fi || nl_die 70 "ofa-train failed (exit $?), see logs/ofa-train.log"
			mv supernet.rec.tmp supernet.rec
			nl_log "supernet trained: $(rec2json supernet.rec | jq -c '.probes // empty')"
		fi
		SUPERNET=supernet.ckpt
	elif [ "$SUPERNET" != none ] && [ ! -e supernet.ckpt ] && [ "${SUPERNET#/}" != "$SUPERNET" ]; then
		ln -s "$SUPERNET" supernet.ckpt
	fi
	NL_BASEFILES="$([ "$SUPERNET" != none ] && echo "$SUPERNET") $DATA"
	NL_RETURNS="result.rec status train.log train.rec weights.ckpt exo.rec"
}

# nl_write_job: job.sh, which trains and tunes one candidate from the run
# directory (or a remote workdir holding the same relative paths): the
# command of NL_TRAIN (and TRAIN_ARGS; with --eval shared, its options) with
# --exo, -o and the candidate's record, then NL_TUNE (and TUNE_ARGS). It
# leaves cand/ID/result.rec only when both succeeded; cand/ID/status says
# which step ended with what. A shared search also gets final.sh, the same
# job with the pipeline's trainer (no --eval shared) in final/ID/.
nl_write_job() {
	local ev=() m2 m3
	if [ "$EVAL" = shared ]; then
		IFS=, read -r m2 m3 <<< "$SHARED_MU"
		ev=(--eval shared --mu2 "$m2" --mu3 "$m3")
	fi
	nl_job_script job.sh cand "${NL_TRAIN[@]}" "${ev[@]}"
	[ "$EVAL" = shared ] && nl_job_script final.sh final "${NL_TRAIN[@]}"
	return 0
}

# nl_job_script FILE DIR TRAINER...: the job script FILE for DIR/ID.
nl_job_script() {
	local f=$1 dir=$2
	shift 2
	{
		echo '#!/bin/sh'
		echo "# $NL_PROG: train and tune one candidate; generated from config. sh $f ID"
		[ -n "${REMOTE_BIN-}" ] && printf 'PATH=%q:$PATH\n' "$REMOTE_BIN"
		echo "d=$dir/\$1"
		echo 'rm -f "$d/result.rec" "$d/status"'
		local to=
		if [ -n "${BUDGET-}" ] && [ "$dir" = cand ]; then
			# The deadline (NL_DEADLINE, epoch seconds, set by nl_budget;
			# not sent to remote machines): no start unless the cheapest
			# candidate's estimate (NL_EST) fits, and a stop at it. The
			# final fine-tuning comes after the search's budget.
			echo 'if [ -n "${NL_DEADLINE-}" ] && [ $((NL_DEADLINE - $(date +%s))) -lt "${NL_EST:-1}" ]; then'
			echo '	echo "budget 0" > "$d/status"; exit 0'
			echo 'fi'
			echo 'to() { [ -z "${NL_DEADLINE-}" ] || { t=$((NL_DEADLINE - $(date +%s))); echo "timeout $((t > 1 ? t : 1))"; }; }'
			to='$(to) '
		fi
		printf '%s' "$to"; printf '%q ' "$@"; printf '%s ' ${TRAIN_ARGS-}
		echo '--exo "$d/exo.rec" -o "$d/weights.ckpt" "$d/eenn.rec" > "$d/train.rec" 2> "$d/train.log"'
		echo 'rc=$?; [ $rc -eq 0 ] && [ ! -s "$d/train.rec" ] && rc=70'
		[ -z "$to" ] || echo '[ $rc -eq 124 ] && [ -n "${NL_DEADLINE-}" ] && { echo "budget 124" > "$d/status"; exit 0; }'
		echo "[ \$rc -eq 0 ] || { echo \"$1 \$rc\" > \"\$d/status\"; exit \$rc; }"
		printf '%s' "$to"; printf '%q ' "${NL_TUNE[@]}"; printf '%s ' ${TUNE_ARGS-}
		echo '"$d/train.rec" > "$d/tuned.rec" 2>> "$d/train.log"'
		[ -z "$to" ] || echo 'rc=$?; [ $rc -eq 124 ] && [ -n "${NL_DEADLINE-}" ] && { echo "budget 124" > "$d/status"; exit 0; }; (exit $rc)'
		echo "rc=\$?; [ \$rc -eq 0 ] || { echo \"${NL_TUNE[0]} \$rc\" > \"\$d/status\"; exit \$rc; }"
		echo 'mv "$d/tuned.rec" "$d/result.rec" && echo "ok 0" > "$d/status"'
	} > "$f.tmp" && mv "$f.tmp" "$f"
}

# nl_final: --final K after a shared search: the admissible front's top K
# by validation accuracy fine-tuned by final.sh, JOBS at a time on this
# machine, each in final/ID/ (a resumed run skips those with a result);
# final.rec their tuned records in that order (final/ids). A failed one is
# logged and left out.
nl_final() {
	local id n=0
	[ "$FINAL" -gt 0 ] && [ "$EVAL" = shared ] || return 0
	nl_cons
	mkdir -p final
	pareto -q -f rec "${NL_CONS[@]}" archive.rec 2>> "logs/$NL_PROG.log" | rec2json |
	    jq -r 'select(.admissible) | "\(.top1_ee_val) \(.id)"' | sort -s -k1,1gr |
	    head -n "$FINAL" | cut -d' ' -f2 > final/ids.tmp && nl_commit final/ids.tmp final/ids
	: > final/queue
	while IFS= read -r id; do
		[ -s "final/$id/result.rec" ] && continue
		mkdir -p "final/$id"
		cp "cand/$id/eenn.rec" "final/$id/eenn.rec"
		echo "$id" >> final/queue
	done < final/ids
	if [ -s final/queue ]; then
		nl_log "final: fine-tuning the admissible front's top $(wc -l < final/queue) with the full trainer (final.sh)"
		parallel --will-cite -j "$JOBS" --joblog logs/joblog-final sh final.sh '{}' < final/queue >&2
	fi
	: > final.rec.tmp
	while IFS= read -r id; do
		if [ -s "final/$id/result.rec" ]; then
			cat "final/$id/result.rec" >> final.rec.tmp
			n=$((n + 1))
		else
			nl_log "final: $id failed ($(cat "final/$id/status" 2> /dev/null)), see final/$id/train.log"
		fi
	done < final/ids
	nl_commit final.rec.tmp final.rec
	nl_log "final: $n of $(wc -l < final/ids) fine-tuned into final.rec"
}

# --- a search sized to a wall-clock budget (--budget) -------------------------
# The setting BUDGET (a pipeline lists it in NL_KEYS): a duration for
# budget-plan(1) (25m, 2h, 1h30m). Before the supernet, nl_budget times this
# machine with the run's own commands and settings (threads, jobs, batch):
# ofa-train for one epoch on two small subsets, and job.sh (the real
# candidate job, whatever trainer and evaluation it runs) on the all-min and
# all-max networks of the search's space side by side at a small subset,
# then on the all-min one at a larger subset (with --eval shared, SUBSET
# itself). budget-plan fits cost lines to the probes and plans; the plan sets
# the supernet's epochs (and images), SUBSET, N_START, K and ITERATIONS.
# From then on a deadline holds whatever the plan said: jobs start only if
# the cheapest candidate fits before it and are stopped at it (job.sh),
# iterations start only if one round fits (nl_out_of_time), and the reserve
# the plan keeps pays for the report and the export. NACHOS_RATES=FILE
# plans from a rates record instead of probing (the same measurement for
# several runs, or tests).
BUDGET=

# nl_budget_check: the BUDGET setting, as budget-plan reads it, into
# NL_BUDGET_S (seconds); exit 64 on a bad one.
nl_budget_check() {
	local t msg
	[ -n "${BUDGET-}" ] || return 0
	t=$(command -v budget-plan || echo "$NL_DIR/../bin/budget-plan")
	msg=$("$t" -b "$BUDGET" --check 2>&1) || nl_die 64 "${msg#budget-plan: }"
	NL_BUDGET_S=$msg
	[ -z "${NACHOS_RATES-}" ] || NACHOS_RATES=$(realpath -m -- "$NACHOS_RATES")
	[ -z "${SSHLOGINFILE-}" ] || nl_die 64 "--budget: jobs on other machines (--sshloginfile) are not timed; run without one of the two"
}

# nl_data_size: images in the training split of DATA (IDX header, CIFAR
# batches of 3073 bytes, else the files under DATA).
nl_data_size() {
	local f
	f=$(ls "$DATA"/train-images-idx3-ubyte* 2> /dev/null | head -n 1)
	if [ -n "$f" ]; then
		zcat -f -- "$f" | head -c 8 | od -An -tu1 | awk '{ print $5 * 16777216 + $6 * 65536 + $7 * 256 + $8 }'
	elif ls "$DATA"/data_batch_*.bin > /dev/null 2>&1; then
		cat "$DATA"/data_batch_*.bin | wc -c | awk '{ print int($1 / 3073) }'
	else
		find -L "$DATA" -type f | wc -l
	fi
}

# nl_secs_since T0: seconds (3 decimals) since T0 (date +%s.%N).
nl_secs_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f\n", b - a }'; }

# nl_timed FILE COMMAND...: COMMAND, its standard error passed through, and
# its wall and CPU seconds (user + system, every process it ran) as
# "wall cpu" into FILE. The plan fits costs on CPU time, which a busy
# machine hardly changes, and takes the load from wall / CPU (plan(5)).
nl_timed() {
	local f=$1 TIMEFORMAT='%R %U %S' st
	shift
	{ time "$@" 2>&3; } 3>&2 2> "$f.tmp" && st=0 || st=$?
	awk '{ printf "%s %.3f\n", $1, $2 + $3 }' "$f.tmp" > "$f"
	rm -f "$f.tmp"
	return "$st"
}

# nl_budget_probe > rates record: the probes of this machine (see above).
nl_budget_probe() {
	local size sup_size= n1 n2 space n id ids ok w c ofa_sub sup_n= sup_s= sup_c= cmin=() cmax=() cminc=() cmaxc=()
	local k t0 it_s
	local train=("${NL_TRAIN[@]}")
	mkdir -p probe
	size=$(nl_data_size)
	[[ $size =~ ^[0-9]+$ ]] && [ "$size" -ge 8 ] || nl_die 66 "--budget: cannot tell the size of the training set in $DATA"
	if [ -n "${NL_SUP_PENDING-}" ]; then
		# OFA_ARGS's own --subset bounds what a full epoch reads
		ofa_sub=$(sed -n 's/.*--subset[= ]\([0-9]*\).*/\1/p' <<< "$OFA_ARGS")
		sup_size=$size
		[ -n "$ofa_sub" ] && [ "$ofa_sub" -gt 0 ] && [ "$ofa_sub" -lt "$size" ] && sup_size=$ofa_sub
		n1=$((sup_size / 4 < 384 ? sup_size / 4 : 384)) n2=$((sup_size / 4 < 384 ? sup_size : 4 * 384))
		for n in $n1 $n2; do
			nl_log "budget: timing the supernet trainer, one epoch on $n images"
			# shellcheck disable=SC2086
			nl_timed "probe/time-sup-$n" ofa-train $OFA_ARGS --width "$WIDTH" --data "$DATA" --in-ch "$IN_CH" \
			    --resolution "$RESOLUTION" --epochs 1 --ps 0,0,0 --subset "$n" -o "probe/sup-$n.ckpt" \
			    > "probe/sup-$n.rec" 2>> probe/ofa-train.log ||
			    nl_die 70 "budget: the supernet probe failed, see probe/ofa-train.log"
			read -r w c < "probe/time-sup-$n"
			sup_n+=${sup_n:+,}$n sup_s+=${sup_s:+,}$w sup_c+=${sup_c:+,}$c
		done
		NL_TRAIN+=(--supernet "probe/sup-$n2.ckpt")
	fi
	case ${SEARCH-} in edanas | aebnas) space=$SEARCH ;; *) space=nachos ;; esac
	n1=$((size / 4 < 500 ? size / 4 : 500)) n2=$((size / 4 < 500 ? 3 * size / 4 : 1500))
	# A shared evaluation trains the heads on at most its cache of features,
	# so its cost is not linear in the subset: time it at the largest subset
	# the plan may choose (cheap, seconds) instead of extrapolating to it.
	if [ "$EVAL" = shared ]; then
		[ -n "$SUBSET" ] && [ "$SUBSET" -gt 0 ] && [ "$SUBSET" -lt "$size" ] && n2=$SUBSET || n2=$size
		[ "$n2" -gt "$n1" ] || n2=$((size / 4 < 500 ? 3 * size / 4 : 1500))
	fi
	ofa-sample --space "$space" --extremes -n 2 --seed "$SEED" --in-ch "$IN_CH" --classes "$CLASSES" \
	    --resolution "$RESOLUTION" --width "$WIDTH" "${NL_LIMITS[@]}" 2> probe/ofa-sample.log |
	    eec-place | rec2json > probe/extremes.json || nl_die 70 "budget: sampling the extremes failed, see probe/ofa-sample.log"
	[ "$(wc -l < probe/extremes.json)" -eq 2 ] || nl_die 70 "budget: no all-min and all-max networks to time"
	# Round 1: all-min and all-max side by side at n1 (the all-max to
	# all-min ratio); round 2: the all-min at n2 (its line; the all-max
	# one is the ratio times it, budget-plan(1)): the costly all-max runs once.
	for n in $n1 $n2; do
		ids=min
		[ "$n" = "$n1" ] && ids="min max"
		nl_log "budget: timing the candidate job on the all-${ids// /, all-} network(s), --subset $n, $JOBS at a time"
		: > probe/ids
		for id in $ids; do
			mkdir -p "cand/probe-$n-$id"
			sed -n "$([ $id = min ] && echo 1 || echo 2)p" probe/extremes.json |
			    jq -c --arg id "probe-$n-$id" '.id = $id' | json2rec > "cand/probe-$n-$id/eenn.rec"
			echo "probe-$n-$id" >> probe/ids
		done
		NL_TRAIN=("${train[@]}" "${NL_TRAIN[@]:${#train[@]}}" --subset "$n")
		nl_write_job
		# shellcheck disable=SC2016
		printf '%s\n' "$(declare -f nl_timed)" 'nl_timed "probe/time-$1" sh job.sh "$1"' > probe/timed.sh
		parallel --will-cite -j "$JOBS" --joblog "probe/joblog-$n" bash probe/timed.sh '{}' < probe/ids >&2
		NL_TRAIN=("${NL_TRAIN[@]:0:${#NL_TRAIN[@]}-2}")
		for id in $ids; do
			ok=$(cat "cand/probe-$n-$id/status" 2> /dev/null)
			cp "cand/probe-$n-$id/train.log" "probe/train-$n-$id.log" 2> /dev/null
			[ "$ok" = "ok 0" ] || nl_die 70 "budget: the candidate probe on the all-$id network failed ($ok), see probe/train-$n-$id.log"
			read -r w c < "probe/time-probe-$n-$id"
			if [ "$id" = min ]; then cmin+=("$w") cminc+=("$c"); else cmax+=("$w") cmaxc+=("$c"); fi
		done
		rm -rf cand/probe-"$n"-*
	done
	NL_TRAIN=("${train[@]}")
	rm -f probe/sup-*.ckpt
	# An iteration beyond its candidates' jobs: both surrogates and NSGA-II
	# on a synthetic archive of 40 networks of the space, with figures made
	# up from their genomes (what is timed is the fitting, not the fit).
	nl_log "budget: timing an iteration's surrogates and NSGA-II on 40 synthetic records"
	ofa-sample --space "$space" -n 40 --seed "$SEED" --in-ch "$IN_CH" --classes "$CLASSES" \
	    --resolution "$RESOLUTION" --width "$WIDTH" 2>> probe/iter.log | eec-place | rec2json |
	    jq -c '.top1_ee_val = 0.8 + ((.genome | add) % 17) / 100 |
	        .avg_macs_val = 1e6 + (.genome[:10] | add) * 1e5' | json2rec > probe/archive.rec ||
	    nl_die 70 "budget: sampling the iteration probe's archive failed, see probe/iter.log"
	t0=$(date +%s.%N)
	for k in top1_ee_val avg_macs_val; do
		surrogate-fit -t "$k" $([ "$k" = top1_ee_val ] && echo --error) -m "$SUR_MODEL" \
		    --folds "$SUR_FOLDS" --seed "$SEED" ${THREADS:+--threads "$THREADS"} \
		    -o "probe/$k.model" probe/archive.rec 2>> probe/iter.log ||
		    nl_die 70 "budget: the iteration probe's surrogate-fit failed, see probe/iter.log"
	done
	nsga-step --err-model probe/top1_ee_val.model --macs-model probe/avg_macs_val.model \
	    --no-constraints --pop "$POP" --gens "$GENS" -k "$K" --iter 1 --seed "$SEED" \
	    probe/archive.rec > /dev/null 2>> probe/iter.log ||
	    nl_die 70 "budget: the iteration probe's nsga-step failed, see probe/iter.log"
	it_s=$(nl_secs_since "$t0")
	jq -nc --argjson j "$JOBS" --arg sn "$sup_n" --arg ss "$sup_s" --arg sc "$sup_c" --argjson size "${sup_size:-0}" \
	    --argjson cn "[$n1,$n2]" --argjson cmin "[${cmin[0]},${cmin[1]}]" --argjson cmax "[${cmax[0]}]" \
	    --argjson cminc "[${cminc[0]},${cminc[1]}]" --argjson cmaxc "[${cmaxc[0]}]" \
	    --arg cpu "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)" \
	    --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --arg threads "${THREADS:-}" --argjson it "$it_s" '
	    {type: "rates", v: 1, jobs: $j, threads: (if $threads == "" then null else ($threads | tonumber) end),
	     cand_probe_n: $cn, cand_min_probe_s: $cmin, cand_max_probe_s: $cmax, iter_probe_s: $it,
	     cand_min_probe_cpu_s: $cminc, cand_max_probe_cpu_s: $cmaxc, cpu: $cpu, loadavg: $load}
	    + if $sn == "" then {} else {sup_probe_n: ($sn | split(",") | map(tonumber)),
	       sup_probe_s: ($ss | split(",") | map(tonumber)),
	       sup_probe_cpu_s: ($sc | split(",") | map(tonumber)), sup_images: $size} end' | json2rec
}

# nl_budget: with BUDGET, the probes (once: rates.rec), the plan (once:
# plan.rec, for what is left of the budget), the settings it sets, job.sh
# again, the supernet, and the deadline the jobs and iterations keep.
nl_budget() {
	local left plan smax t0 share
	[ -n "${BUDGET-}" ] || return 0
	left=$((NL_BUDGET_S - NL_ELAPSED0 - $(date +%s) + NL_START))
	if [ ! -s plan.rec ]; then
		nl_log "budget $BUDGET: measuring this machine before planning (probe/; load average $(cut -d' ' -f1-3 /proc/loadavg))"
		if [ -n "${NACHOS_RATES-}" ]; then
			cp -- "$NACHOS_RATES" rates.rec || nl_die 66 "NACHOS_RATES: cannot read $NACHOS_RATES"
		else
			t0=$(date +%s.%N)
			nl_budget_probe > rates.rec.tmp || exit
			nl_addkeys ".probe_wall_s = $(nl_secs_since "$t0")" < rates.rec.tmp > rates.rec.new &&
			    mv rates.rec.new rates.rec && rm -f rates.rec.tmp || nl_die 74 "cannot write rates.rec"
			nl_log "budget: the probes took $(rec2json rates.rec | jq '.probe_wall_s | round') s of $NL_BUDGET_S"
		fi
		left=$((NL_BUDGET_S - NL_ELAPSED0 - $(date +%s) + NL_START))
		[ "$left" -gt 0 ] || left=1
		# The subset stays within the preset's (the quality it was sized
		# for) or the training set; K, N_START, ITERATIONS are the plan's.
		smax=$(nl_data_size)
		[ -n "$SUBSET" ] && [ "$SUBSET" -gt 0 ] && [ "$SUBSET" -lt "$smax" ] && smax=$SUBSET
		# With shared evaluation a candidate costs seconds and is only as
		# good as the supernet it is cut from: the supernet gets more.
		share=0.4
		[ "$EVAL" = shared ] && share=0.7
		budget-plan -b "${left}s" --sup-share "$share" --subset-max "$smax" --subset-min $((smax < 1000 ? smax : 1000)) \
		    --k-max "$POP" rates.rec > plan.rec.tmp 2>> "logs/$NL_PROG.log" &&
		    mv plan.rec.tmp plan.rec || nl_die 70 "budget-plan failed, see logs/$NL_PROG.log"
	fi
	plan=$(rec2json plan.rec)
	nl_log "$(jq -r '"budget \($b): measured candidate job \(.cand_min_fixed_s | . * 10 | round / 10) s + \(.cand_min_per_img_s * 1000 | . * 100 | round / 100) ms/image (all-min), \(.cand_max_fixed_s | . * 10 | round / 10) s + \(.cand_max_per_img_s * 1000 | . * 100 | round / 100) ms/image (all-max), \(.jobs) at a time\(if .sup_probe_n then "; supernet \(.sup_fixed_s | . * 10 | round / 10) s + \(.sup_per_img_s * 1000 | . * 100 | round / 100) ms/image-epoch" else "" end)"' --arg b "$BUDGET" <<< "$plan")"
	nl_log "$(jq -r '"budget plan (\(.budget_s) s left): \(if .sup_epochs > 0 then "supernet \(.sup_epochs) epoch(s) over \(if .sup_subset > 0 then "\(.sup_subset) images" else "the training set" end) (~\(.sup_s | round) s), " else "" end)\(.candidates) candidates on --subset \(.subset) (~\(.cand_s | round) s each): \(.n_start) initial + \(.iterations) iteration(s) of \(.k); ~\(.total_s | round) s in all, \(.reserve_s | round) s kept for the report\(if .feasible then "" else "; NOT FEASIBLE: the smallest search does not fit, the deadline will cut it" end)"' <<< "$plan")"
	eval "$(jq -r '@sh "N_START=\(.n_start) K=\(.k) ITERATIONS=\(.iterations) SUBSET=\(.subset) NL_SUP_EPOCHS=\(.sup_epochs) NL_SUP_SUBSET=\(.sup_subset) NL_EST=\(.cand_min_s | ceil) NL_RESERVE=\(.reserve_s | ceil) NL_PLAN_LEFT=\(.budget_s)"' <<< "$plan")"
	NL_TRAIN+=(--subset "$SUBSET")
	nl_write_job
	NL_DEADLINE=$((NL_START + NL_BUDGET_S - NL_ELAPSED0 - NL_RESERVE))
	export NL_DEADLINE NL_EST
	NL_PLANNED=1
	if [ -n "${NL_SUP_PENDING-}" ]; then
		OFA_ARGS+=" --epochs $NL_SUP_EPOCHS"
		[ "$NL_SUP_SUBSET" -gt 0 ] && OFA_ARGS+=" --subset $NL_SUP_SUBSET"
		SUPERNET=
		nl_supernet
	fi
}

# nl_budget_report BEST: the report's section on the budget: the plan, the
# measured rates, whether the deadline cut the search short, and plainly
# when no admissible EENN was found within it.
nl_budget_report() {
	local plan ncut
	plan=$(rec2json plan.rec)
	# cut at least once and not trained since (a resumed run may have)
	ncut=$([ -s budget.cut ] && awk '{ print $2 }' budget.cut | sort -u |
	    grep -vxF -f <(nl_ids archive.rec; nl_ids failed.rec; echo /) | wc -l || echo 0)
	echo "## Budget"
	echo
	if ! jq -e '.admissible' <<< "${1:-null}" > /dev/null; then
		echo "**The constraints (accuracy ≥ ${ACC_MIN:-none}, $(nl_cost_describe)) could not be met within the budget of $BUDGET on this machine: no admissible EENN was found.**"
		echo
	fi
	if [ -s budget.stop ] || [ "$ncut" -gt 0 ]; then
		echo "**The budget cut the search short:** $(cat budget.stop 2> /dev/null || echo "the last candidates ran into the deadline")$([ "$ncut" -gt 0 ] && echo "; $ncut candidate(s) not started or stopped at the deadline (budget.cut)")."
	else
		echo "The search ran its plan within the budget."
	fi
	echo
	jq -r '"Budget \($b) (\(.budget_s) s when planned, after measuring\(if .probe_wall_s then " for \(.probe_wall_s | round) s" else "" end); \(.reserve_s | round) s of it kept for this report and the export). Measured on \(.cpu // "this machine") (load average \(.loadavg // "-")), \(.jobs) job(s) at a time:",
	    "",
	    "| what | fixed | per image | probes (images: s) |", "|---|---|---|---|",
	    (if .sup_probe_n then "| supernet, one epoch | \(.sup_fixed_s * 10 | round / 10) s | \(.sup_per_img_s * 1e4 | round / 10) ms | \([.sup_probe_n, .sup_probe_s] | transpose | map("\(.[0]): \(.[1])") | join(", ")) |" else empty end),
	    "| candidate job, all-min | \(.cand_min_fixed_s * 10 | round / 10) s | \(.cand_min_per_img_s * 1e4 | round / 10) ms | \([.cand_probe_n, .cand_min_probe_s] | transpose | map("\(.[0]): \(.[1])") | join(", ")) |",
	    "| candidate job, all-max | \(.cand_max_fixed_s * 10 | round / 10) s | \(.cand_max_per_img_s * 1e4 | round / 10) ms | \([.cand_probe_n[:(.cand_max_probe_s | length)], .cand_max_probe_s] | transpose | map("\(.[0]): \(.[1])") | join(", "))\(if (.cand_max_probe_s | length) == 1 then " (line: the all-min one × \(.cand_max_probe_s[0] / .cand_min_probe_s[0] * 100 | round / 100))" else "" end) |",
	    "",
	    "Plan (budget-plan): \(if .sup_epochs > 0 then "supernet \(.sup_epochs) epoch(s) over \(if .sup_subset > 0 then "\(.sup_subset) images" else "the training set" end) (~\(.sup_s | round) s); " else "" end)\(.candidates) candidates on --subset \(.subset) (~\(.cand_s | round) s each): \(.n_start) initial and \(.iterations) iteration(s) of \(.k); ~\(.total_s | round) s in all\(if .feasible then "" else "; **not feasible**: even the smallest search did not fit" end)."' \
	    --arg b "$BUDGET" <<< "$plan"
	echo
}

# nl_need_archive: after the initial archive's jobs, die (70) unless one
# trained, saying why: failures, or a budget gone before any could finish.
nl_need_archive() {
	[ "$(nl_count archive.rec)" -gt 0 ] && return 0
	[ -s budget.cut ] && nl_die 70 "the budget $BUDGET ran out before any candidate of the initial archive trained (budget.cut): the constraints could not be met within it"
	nl_die 70 "no candidate of the initial archive trained; see failed.rec and cand/*/train.log"
}

# nl_more N, at the top of each iteration: is there an iteration N+1? Up
# to ITERATIONS; with a deadline, past them while the last iteration's wall
# time (the first: the initial archive's, from nl_train) fits before it: the plan's estimates can be off either way, and the
# time it leaves over buys more search (patience and nl_out_of_time still
# stop it).
nl_more() {
	local now
	now=$(date +%s)
	[ -z "${NL_ITER_T0-}" ] || NL_ITER_S=$((now - NL_ITER_T0))
	NL_ITER_T0=$now
	[ "$1" -lt "$ITERATIONS" ] && return 0
	[ -n "${NL_DEADLINE-}" ] && [ -n "${NL_ITER_S-}" ] || return 1
	[ $((NL_DEADLINE - now)) -ge "$NL_ITER_S" ] || return 1
	! nl_stale "$1" "$PATIENCE" || return 1
	nl_log "budget: $((NL_DEADLINE - now)) s left before the deadline, the last iteration took $NL_ITER_S s: iteration $(($1 + 1)), beyond the plan's $ITERATIONS"
}

# nl_out_of_time: with a deadline, true (and logged, once) when not even
# one round of the cheapest candidates fits before it: the search stops.
nl_out_of_time() {
	local left
	[ -n "${NL_DEADLINE-}" ] || return 1
	left=$((NL_DEADLINE - $(date +%s)))
	[ "$left" -lt "$NL_EST" ] || return 1
	nl_log "budget: $((left > 0 ? left : 0)) s left before the deadline, less than a candidate's $NL_EST s: stopping the search"
	echo "stopped before iteration $((n + 1)) of $ITERATIONS, $((left > 0 ? left : 0)) s before the deadline" > budget.stop
	return 0
}

# --- candidates and the job runner ----------------------------------------

# nl_split ITER < eenn records: one folder per candidate, then iter/N/ids
# (written last, so an iteration with ids has every candidate folder).
nl_split() {
	local n=$1 line id
	mkdir -p "iter/$n"
	rec2json > "iter/$n/eenn.json" || nl_die 65 "iteration $n: bad candidate records"
	: > "iter/$n/ids.tmp"
	while IFS= read -r line; do
		id=$(jq -r .id <<< "$line")
		mkdir -p "cand/$id"
		json2rec <<< "$line" > "cand/$id/eenn.rec"
		echo "$id" >> "iter/$n/ids.tmp"
	done < "iter/$n/eenn.json"
	json2rec < "iter/$n/eenn.json" > "iter/$n/eenn.rec"
	rm -f "iter/$n/eenn.json"
	nl_commit "iter/$n/ids.tmp" "iter/$n/ids"
}

# nl_done ID: the candidate is settled (in the archive or in failed.rec).
nl_done() { grep -qxF -- "$1" .settled 2> /dev/null; }

nl_settled_refresh() { { nl_ids archive.rec; nl_ids failed.rec; } > .settled; }

# nl_train ITER: train and tune every unsettled candidate of iteration ITER
# that has no result yet, with GNU parallel: JOBS at a time, here or on the
# machines of SSHLOGINFILE (job.sh, the supernet and the data sent once as
# basefiles, the candidate's record sent and its outputs returned).
nl_train() {
	local n=$1 id queue=iter/$1/queue
	# the first round's start: nl_more times the rounds from here
	[ -n "${NL_ITER_T0-}" ] || NL_ITER_T0=$(date +%s)
	nl_settled_refresh
	: > "$queue"
	while IFS= read -r id; do
		nl_done "$id" && continue
		[ -s "cand/$id/result.rec" ] && continue   # finished before a kill
		rm -f "cand/$id/status"
		echo "$id" >> "$queue"
	done < "iter/$n/ids"
	if [ -s "$queue" ]; then
		nl_log "iteration $n: training $(wc -l < "$queue") candidate(s), $JOBS at a time${SSHLOGINFILE:+ on the machines of $SSHLOGINFILE}"
		local p=(parallel --will-cite -j "$JOBS" --joblog "logs/joblog-$n")
		local wd=${REMOTE_WORKDIR:-.nachos-work/$(basename "$PWD")-$$}
		if [ -n "${SSHLOGINFILE-}" ]; then
			local f
			p+=(--sshloginfile "$SSHLOGINFILE" --workdir "$wd" --cleanup --basefile job.sh)
			for f in $NL_BASEFILES; do p+=(--basefile "$f"); done
			p+=(--transferfile 'cand/{}/eenn.rec')
			for f in $NL_RETURNS; do p+=(--return "cand/{}/$f"); done
		fi
		# A failed job is recorded below; parallel's own status is not fatal.
		"${p[@]}" sh job.sh '{}' < "$queue" >&2
		# --cleanup removes the files it moved, not the directories.
		[ -z "${SSHLOGINFILE-}" ] || parallel --will-cite --nonall --sshloginfile "$SSHLOGINFILE" \
		    "rm -rf '$wd'; rmdir '$(dirname "$wd")' 2> /dev/null; true" >&2
	fi
	nl_collect "$n"
}

# nl_collect ITER: append the iteration's new results to the archive, and
# record the candidates whose job failed. Each file grows by rewrite and
# rename (nl_commit), so a kill leaves it as it was or with every new record;
# a resumed run collects again what a kill kept out.
nl_collect() {
	local n=$1 id st s new=0 bad=0 cut=0
	nl_settled_refresh
	: > .append
	: > .failed
	while IFS= read -r id; do
		nl_done "$id" && continue
		if [ -s "cand/$id/result.rec" ]; then
			cat "cand/$id/result.rec" >> .append
			new=$((new + 1))
		elif grep -q '^budget ' "cand/$id/status" 2> /dev/null; then
			# cut by the deadline: not a failure (a resumed run with
			# time left trains it)
			echo "$n $id $(cat "cand/$id/status")" >> budget.cut
			cut=$((cut + 1))
		else
			st=$(cat "cand/$id/status" 2> /dev/null)
			nl_fail_rec "$id" "$n" "${st:-job killed or lost (no status)}" >> .failed
			bad=$((bad + 1))
		fi
	done < "iter/$n/ids"
	# t_s: the run's wall time when the record joined the archive, so a
	# report can plot the hypervolume against time as well as iterations.
	s=$(nl_elapsed)
	if [ -s .append ]; then
		rec2json .append | jq -c --argjson t "$s" '.t_s = $t' | json2rec > .append.t &&
		    mv .append.t .append || nl_die 74 "cannot stamp the iteration's records"
	fi
	nl_append archive.rec .append
	nl_append failed.rec .failed
	nl_log "iteration $n: $new candidate(s) added to the archive ($(nl_count archive.rec) in all), $bad failed${BUDGET:+, $cut cut by the deadline}"
	[ "$bad" -gt 0 ] && nl_log "iteration $n: failures recorded in failed.rec: $(nl_ids failed.rec | tail -n "$bad" | tr '\n' ' ')"
	return 0
}

# nl_append FILE NEW: FILE with NEW's records after its own, committed whole.
nl_append() {
	[ -s "$2" ] || { rm -f -- "$2"; return 0; }
	{ [ ! -e "$1" ] || cat -- "$1"; cat -- "$2"; } > "$1.new" &&
	    nl_commit "$1.new" "$1" || nl_die 74 "cannot add to $1"
	rm -f -- "$2"
}

# nl_fail_rec ID ITER STATUS: the candidate's eenn record with why it failed:
# failed (true), stage and exit (from job.sh's status line "STAGE CODE"),
# reason (the last line of its log), iter.
nl_fail_rec() {
	local stage=${3%% *} code=${3##* } why
	[[ $code =~ ^[0-9]+$ ]] || { stage=job code=-1; }
	why=$(grep -v '^\s*$' "cand/$1/train.log" 2> /dev/null | tail -n 1)
	rec2json "cand/$1/eenn.rec" | jq -c --arg st "$stage" --argjson c "$code" \
	    --arg why "${why:-$3}" --argjson it "$2" \
	    '.type = "failed" | .failed = true | .stage = $st | .exit = $c | .reason = $why | .iter = $it' |
	    json2rec
}

# --- search state -------------------------------------------------------------

# nl_last_iter: the highest iteration started (its ids written), or -1.
nl_last_iter() {
	local d n=-1
	for d in iter/*/ids; do
		[ -e "$d" ] || continue
		d=${d#iter/}; d=${d%/ids}
		[ "$d" -gt "$n" ] && n=$d
	done
	echo "$n"
}

# nl_hv: hypervolume per iteration of the archive's admissible front
# (validation split) into hv.rec. The reference is pareto's: 1.01 times the
# largest error and MACs of iteration 0, kept in hvref once computed (an
# error floor of 0.01 when every initial network was right on validation).
nl_hv() {
	nl_cons
	if [ ! -s hvref ]; then
		rec2json archive.rec | jq -rs --arg k "${NL_COST_KEY:-avg_macs_val}" '[.[] | select((.iter // 0) == 0)] |
		    "\([([.[] | 1 - .top1_ee_val] | max) * 1.01, 0.01] | max),\((map(.[$k]) | max) * 1.01)"' \
		    > hvref.tmp && nl_commit hvref.tmp hvref || return 70
	fi
	pareto -q -f rec --hv --ref "$(cat hvref)" "${NL_CONS[@]}" archive.rec 2>> "logs/$NL_PROG.log" |
	    rec2json | jq -c 'select(.type == "hv")' > hv.json && json2rec < hv.json > hv.rec.tmp &&
	    nl_commit hv.rec.tmp hv.rec || {
		nl_log "pareto --hv failed, see logs/$NL_PROG.log"
		return 70
	}
	rm -f hv.json
}

# nl_hv_of ITER: the hypervolume of iteration ITER from hv.rec.
nl_hv_of() { rec2json hv.rec | jq -r --argjson n "$1" 'select(.iter == $n) | .hv'; }

# nl_stale ITER PATIENCE: true when the last PATIENCE iterations up to ITER
# brought no hypervolume gain over the best before them.
nl_stale() {
	local n=$1 pat=$2
	[ "$pat" -gt 0 ] && [ "$n" -ge "$pat" ] || return 1
	rec2json hv.rec | jq -r '"\(.iter) \(.hv)"' | awk -v n="$n" -v p="$pat" '
		{ hv[$1] = $2 }
		END {
			best = -1
			for (i = 0; i <= n - p; i++) if ((i in hv) && hv[i] > best) best = hv[i]
			for (i = n - p + 1; i <= n; i++) if ((i in hv) && hv[i] > best + 1e-12) exit 1
			exit 0
		}'
}

# nl_elapsed: seconds of wall time over every session of the run so far,
# saved in the file elapsed (a killed session loses at most its last
# iteration's share).
nl_elapsed() {
	[ -n "${NL_ELAPSED0-}" ] || NL_ELAPSED0=$(cat elapsed 2> /dev/null || echo 0)
	echo $((NL_ELAPSED0 + $(date +%s) - NL_START)) | tee elapsed.tmp
	mv elapsed.tmp elapsed
}

# nl_cons: pareto's constraint options from ACC_MIN and MACS_MAX (either may
# be empty: the unconstrained baselines).
nl_cons() {
	NL_CONS=()
	[ -n "${ACC_MIN-}" ] && NL_CONS+=(--acc-min "$ACC_MIN")
	[ -n "${MACS_MAX-}" ] && NL_CONS+=(--macs-max "$MACS_MAX")
	[ "${COST-}" = latency ] && NL_CONS+=(--cost latency ${LAT_MAX:+--lat-max "$LAT_MAX"})
	NL_CONS+=("${NL_LIMITS[@]}")
	return 0
}

# nl_export BEST: the best admissible EENN (BEST, its JSON) exported as
# float and int8 C and ONNX into export/<id>/, its figures (sizes, the exported
# builds' test accuracy) in export.rec. A failed export is logged, not fatal:
# the search's results stand without it.
nl_export() {
	local best=$1 id
	rm -f export.rec
	[ -n "$best" ] && jq -e '.admissible' <<< "$best" > /dev/null || return 0
	id=$(jq -r '.id' <<< "$best")
	nl_log "exporting the best admissible EENN $id: eenn-export (log: logs/eenn-export.log)"
	json2rec <<< "$best" |
	    eenn-export -o export --onnx --eval 1000000 > export.rec.tmp 2>> logs/eenn-export.log &&
	    mv export.rec.tmp export.rec ||
	    { rm -f export.rec.tmp; nl_log "eenn-export failed, see logs/eenn-export.log"; }
}

# nl_report TITLE: plots, report.md, and the summary on stderr. The best
# EENN is the best trade-off (knee) of the archive's first front on the
# validation split, admissible first; its figures are the test split's.
nl_report() {
	local title=$1 best wall hvtab
	nl_cons
	local s
	nl_final
	nl_hv || nl_die 70 "hypervolume failed"
	pareto -q -f rec --hv --ref "$(cat hvref)" "${NL_CONS[@]}" --plot plots/front.png archive.rec > /dev/null 2>> "logs/$NL_PROG.log" ||
	    nl_log "pareto --plot failed (is gnuplot installed?), see logs/$NL_PROG.log"
	pareto -q -f rec --split test "${NL_CONS[@]}" --plot plots/front-test.png archive.rec > /dev/null 2>> "logs/$NL_PROG.log"
	best=$(pareto -q -f rec "${NL_CONS[@]}" archive.rec | rec2json | jq -c 'select(.knee)')
	nl_export "$best"
	# the wall time with the export, the last step that takes time
	s=$(nl_elapsed)
	wall=$(printf '%dh%02dm%02ds' $((s / 3600)) $((s % 3600 / 60)) $((s % 60)))
	hvtab=$(rec2json hv.rec | jq -r '"| \(.iter) | \(.hv * 10000 | round / 10000) | \(.n) | \(.n_front) |"')
	{
		echo "# $title: $(basename "$PWD")"
		echo
		echo "Run directory \`$PWD\`; settings in \`config\` (preset ${PRESET:-none})."
		echo "Constraints: accuracy ≥ ${ACC_MIN:-none}, $(nl_cost_describe)."
		echo "Width $WIDTH; $(nl_hw_describe)$([ ${#NL_LIMITS[@]} -eq 0 ] ||
		    echo "; $(nl_rejected) network(s) that break them rejected before training")."
		echo "Wall time $wall; $(nl_count archive.rec) EENNs in the archive, $(nl_count failed.rec) failed;"
		echo "$(nl_last_iter) iteration(s) after the initial archive."
		echo
		[ -s plan.rec ] && nl_budget_report "$best"
		echo "## Best EENN"
		echo
		if [ -n "$best" ]; then
			jq -r '"\(if .admissible then "Admissible" else "No EENN is admissible; the closest one (violation \(.violation * 1000 | round / 1000))" end), the best trade-off of the front on the validation split:",
			    "",
			    "| key | value |", "|---|---|",
			    "| id | \(.id) (iteration \(.iter)) |",
			    "| test accuracy (early exit) | \(.top1_ee_test * 10000 | round / 100)% |",
			    "| test accuracy (backbone alone) | \(if .top1_backbone_test then (.top1_backbone_test * 10000 | round / 100 | tostring) + "%" else "-" end) |",
			    "| average MACs (test) | \(.avg_macs | round) (\(.avg_macs / 1e6 * 1000 | round / 1000)M; paper count \(.avg_macs_paper // 0 | round)) |",
			    "| validation accuracy, MACs | \(.top1_ee_val * 10000 | round / 100)%, \(.avg_macs_val | round) |",
			    (select(.cost == "latency") | "| average latency (test; validation), predicted | \(.avg_latency * 1000 | round / 1000) ms; \(.avg_latency_val * 1000 | round / 1000) ms (F_M in ms, the cost of this search) |",
			    "| latency per exit, predicted | \(.exit_latency | map(. * 1000 | round / 1000 | tostring) | join(", ")) ms |"),
			    "| exits after stages | \(.exit_stages | map(tostring) | join(", ")) (5 = final) |",
			    "| thresholds (\(.rule // "-")) | \(.thresholds | map(tostring) | join(", ")) |",
			    "| utilisation per exit | \(.utilization // [] | map(. * 1000 | round / 1000 | tostring) | join(", ")) |",
			    "| MACs spent per exit | \(.exit_spent | map(tostring) | join(", ")) |",
			    "| backbone MACs | \(.macs_backbone // "-") |",
			    "| flash (weights etc.), int8 / f32 | \(.flash_bytes_int8 // "-") / \(.flash_bytes_f32 // "-") bytes |",
			    "| SRAM (activation arena), int8 / f32 | \(.sram_bytes_int8 // "-") / \(.sram_bytes_f32 // "-") bytes |",
			    "| weights | \(.weights // "-") |"' <<< "$best"
		else
			echo "No EENN in the archive."
		fi
		echo
		if [ -s export.rec ]; then
			echo "## Deployment"
			echo
			echo "The best admissible EENN exported by eenn-export (test split, record's thresholds):"
			echo
			rec2json export.rec | jq -r '"| build | files | flash (constants) | SRAM (arena) | test accuracy | avg MACs |",
			    "|---|---|---|---|---|---|",
			    "| float32 C | \(.export_dir)/f32/ | \(.flash_bytes_f32) B | \(.sram_bytes_f32) B | \(.export_f32_top1 * 10000 | round / 100)% | \(.export_f32_avg_macs | round) |",
			    "| int8 C | \(.export_dir)/int8/ | \(.flash_bytes_int8) B | \(.sram_bytes_int8) B | \(.export_int8_top1 * 10000 | round / 100)% | \(.export_int8_avg_macs | round) |",
			    "| ONNX | \(.export_dir)/onnx/ (\(.onnx_files | length) segments) | \(.onnx_bytes) B | - | - | - |"'
			rec2json export.rec | jq -r '"", "Build and run: `cd \(.export_dir)/int8 && cc -std=c99 -O2 *.c -lm -o eenn && ./eenn images.u8` (raw uint8 images back to back; eenn-export(1))."'
			echo
		fi
		if [ -n "$best" ] && [ ! -s export.rec ]; then
			echo "## Deployment"
			echo
			if jq -e '.admissible' <<< "$best" > /dev/null; then
				echo "eenn-export failed: see logs/eenn-export.log."
			else
				echo "No admissible EENN: nothing exported."
			fi
			echo
		fi
		if [ -s supernet.rec ]; then
			echo "## Supernet"
			echo
			rec2json supernet.rec | jq -r '"Trained by ofa-train in \(.wall // 0 | round) s (\(.epochs) epochs on \(.n_train) images); subnets extracted with BN recalibration, validation accuracy: \(.probes // [] | map("\(.name) \(.acc_val * 10000 | round / 100)% at \(.macs) MACs") | join(", "))."'
			echo
		fi
		if [ -s final.rec ]; then
			echo "## Final fine-tuning"
			echo
			echo "Candidates evaluated with the supernet's weights (--eval shared, head epochs $SHARED_MU);"
			echo "the admissible front's top $FINAL fine-tuned afterwards by the full trainer (final/ID/):"
			echo
			echo "| id | shared: val acc | test acc | avg MACs (test) | fine-tuned: val acc | test acc | avg MACs (test) | admissible |"
			echo "|---|---|---|---|---|---|---|---|"
			rec2json final.rec | jq -c . | while IFS= read -r f; do
				id=$(jq -r .id <<< "$f")
				rec2json archive.rec | jq -r --argjson f "$f" --argjson a "${ACC_MIN:-0}" --argjson m "${MACS_MAX:-1e300}" \
				    'def p: . * 10000 | round / 100 | tostring + "%";
				    select(.id == $f.id) | "| \(.id) | \(.top1_ee_val | p) | \(.top1_ee_test | p) | \(.avg_macs | round) | \($f.top1_ee_val | p) | \($f.top1_ee_test | p) | \($f.avg_macs | round) | \(if $f.top1_ee_val >= $a and $f.avg_macs_val <= $m then "yes" else "no" end) |"'
			done
			echo
		fi
		echo "## Front (validation split; test figures in the columns)"
		echo
		echo '```'
		pareto -f table "${NL_CONS[@]}" --cols "id,top1_ee_test,avg_macs$([ "${COST-}" = latency ] && echo ,avg_latency),exit_stages,thresholds" archive.rec 2>&1
		echo '```'
		echo
		echo "## Hypervolume per iteration"
		echo
		echo "Admissible front in (validation error, average $([ "${COST-}" = latency ] && echo "latency (ms)" || echo MACs)), reference (error, cost)"
		echo "$(cat hvref) (1.01 × the initial archive's largest), normalised by its area."
		echo
		echo "| iteration | HV | EENNs | front |"
		echo "|---|---|---|---|"
		echo "$hvtab"
		echo
		echo "## Plots"
		echo
		echo "- [plots/front.png](plots/front.png): archive, front, constraints, HV per iteration (validation)"
		echo "- [plots/front-test.png](plots/front-test.png): the same on the test split"
		if [ -s failed.rec ]; then
			echo
			echo "## Failed candidates"
			echo
			echo "| id | iteration | step | exit | reason |"
			echo "|---|---|---|---|---|"
			rec2json failed.rec | jq -r '"| \(.id) | \(.iter) | \(.stage) | \(.exit) | \(.reason | gsub("\\|"; "/")) |"'
		fi
	} > report.md.tmp && mv report.md.tmp report.md
	nl_log "done in $wall: report $PWD/report.md, plots $PWD/plots/front.png and front-test.png"
	if [ -s plan.rec ]; then
		{ [ -s budget.stop ] || [ -s budget.cut ]; } && nl_log "the budget $BUDGET cut the search short (report.md, section Budget)"
		jq -e '.admissible' <<< "${best:-null}" > /dev/null ||
		    nl_log "the constraints could not be met within the budget of $BUDGET: no admissible EENN was found"
	fi
	[ -s export.rec ] && rec2json export.rec | jq -r '"'"$NL_PROG"': exported to \(.export_dir): int8 C \(.flash_bytes_int8) B flash, \(.sram_bytes_int8) B SRAM, test accuracy \(.export_int8_top1 * 10000 | round / 100)% (float C \(.export_f32_top1 * 10000 | round / 100)%)"' |
	    tee -a "logs/$NL_PROG.log" >&2
	if [ -n "$best" ]; then
		jq -r '"'"$NL_PROG"': best \(if .admissible then "admissible" else "(NOT admissible, closest)" end) EENN \(.id): test accuracy \(.top1_ee_test * 10000 | round / 100)%, avg MACs \(.avg_macs / 1e6 * 1000 | round / 1000)M\(if .cost == "latency" then ", avg latency \(.avg_latency * 1000 | round / 1000) ms (predicted)" else "" end), exits after stages \(.exit_stages | map(tostring) | join(",")), thresholds \(.thresholds | map(tostring) | join(","))"' <<< "$best" |
		    tee -a "logs/$NL_PROG.log" >&2
	fi
}
