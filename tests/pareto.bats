#!/usr/bin/env bats
# pareto: fronts of hand-made archives with and without constraints, the
# knee, hypervolume by hand, table columns, plots, and every class of bad
# input.
load helper
bats_require_minimum_version 1.5.0

# res ID ITER ACC MACS [extra keys]: one result record as thresh-tune
# writes its keys (validation figures; test ones a little apart).
res() {
	echo "{\"type\":\"result\",\"v\":1,\"id\":\"$1\",\"iter\":$2,\"top1_ee_val\":$3,\"avg_macs_val\":$4,\"top1_ee_test\":0.5,\"avg_macs\":1000,\"note\":{\"k\":[1,2]}$5}"
}

# Error / MACs (val): a .10/3000, b .20/1000, c .30/900 on the front at
# iteration 0; d .25/2000 dominated by b; e (iteration 1) .15/2000 joins the
# front; f is no result and has no metric keys.
archive() {
	{
		res a 0 0.90 3000
		res b 0 0.80 1000
		res c 0 0.70 900
		res d 0 0.75 2000
		res e 1 0.85 2000
		echo '{"type":"arch","v":1,"id":"f"}'
	} | json2rec > arch.rec
}

# ids: the ids of out.json's records, in order, space separated.
ids() {
	grep -o '"id":"[^"]*"' out.json | cut -d'"' -f4 | tr '\n' ' ' | sed 's/ $//'
}

@test "-h prints the usage and exits 0" {
	run pareto -h
	assert_success
	assert_line --index 0 "usage: pareto [-ahq] [-f table|rec] [--split val|test] [--acc-key key] [--macs-key key]"
	assert_line --index 2 "              [--ref err,macs] [--cols key,...] [--plot file.png|file.svg]"
	assert_line --index 3 "              [--heatmap-plot file.png|file.svg] [--exit n] [--flash-max bytes]"
	assert_line --index 4 "              [--sram-max bytes] [--target name] [--mem-dtype int8|f32]"
	assert_line --index 5 "              [--cost macs|latency] [--lat-max ms] [file ...]"
}

@test "bad options exit 64 with nothing on stdout" {
	archive
	for args in "-x" "-f xml" "--split train" "--acc-min 1.5" "--acc-min x" \
	    "--macs-max 0" "--macs-max -3" "--knee elbow" "--ref 1" "--ref 1,0" "--ref a,b" \
	    "--plot out.pdf" "--plot out" "--cols ,"; do
		run --separate-stderr pareto $args arch.rec
		[ "$status" -eq 64 ] || { echo "$args: exit $status"; return 1; }
		[ -z "$output" ] || { echo "$args: output on stdout"; return 1; }
		[ -n "$stderr" ]
	done
	run --separate-stderr pareto --ref 1 arch.rec
	[[ $stderr == *'--ref'* ]]
	run --separate-stderr pareto --plot out.pdf arch.rec
	[[ $stderr == *'does not end in .png or .svg'* ]]
	[ ! -e out.pdf ]
}

@test "the front: non-dominated records by error, ranked, knee marked, keys kept" {
	archive
	pareto -q arch.rec | rec2json > out.json
	[ "$(ids)" = "a e b c" ]
	[ "$(grep -c '"front":0,' out.json)" -eq 4 ]
	grep -q '"id":"a".*"rank":1,' out.json
	grep -q '"id":"c".*"rank":4,' out.json
	# every input key passes through, type and version kept
	[ "$(grep -c '"type":"result","v":1,' out.json)" -eq 4 ]
	[ "$(grep -c '"note":{"k":\[1,2\]}' out.json)" -eq 4 ]
	# scaled to [0,1]: a (0,1), e (.25,.52), b (.5,.05), c (1,0); the line
	# a-c is x + y = 1 and b lies farthest below it (0.45)
	[ "$(grep -c '"knee":true' out.json)" -eq 1 ]
	grep -q '"id":"b".*"knee":true' out.json
	grep -q '"admissible":true,"violation":0.0}' out.json
}

@test "--knee tradeoff: pymoo's high trade-off point" {
	archive
	# four points, every one a neighbour of every other: the same as the
	# line knee (see pareto.h)
	pareto -q --knee tradeoff arch.rec | rec2json > out.json
	grep -q '"id":"b".*"knee":true' out.json
	# seven points: neighbours are local, and the sharpest local corner
	# (.18, 11000) beats the point farthest below the chord (.11, 42000)
	i=0
	for p in 0.95:100 0.89:42 0.82:11 0.80:6 0.78:3 0.77:2 0.75:1; do
		res "p$i" 0 "${p%:*}" "${p#*:}000"
		i=$((i + 1))
	done | json2rec > seven.rec
	pareto -q seven.rec | rec2json > out.json
	grep -q '"id":"p1".*"knee":true' out.json
	pareto -q --knee tradeoff seven.rec | rec2json > out.json
	grep -q '"id":"p2".*"knee":true' out.json
	[ "$(grep -c '"knee":true' out.json)" -eq 1 ]
}

@test "-a writes every record by front; the record without metric keys is skipped" {
	archive
	pareto -a arch.rec > out.rec 2> err.txt
	rec2json out.rec > out.json
	[ "$(ids)" = "a e b c d" ]
	grep -q '"id":"d".*"front":1,"rank":1,"knee":false' out.json
	grep -q "1 records without top1_ee_val and avg_macs_val skipped" err.txt
}

@test "constraints: admissible first, violations relative, feasible false respected" {
	archive
	# acc >= .8 and MACs <= 2500: a (3000) and c (.7) fail; e, b stay
	pareto -q -a --acc-min 0.8 --macs-max 2500 arch.rec | rec2json > out.json
	[ "$(ids)" = "e b d c a" ]
	grep -q '"id":"e".*"front":0,"rank":1,"knee":true,"admissible":true' out.json
	grep -q '"id":"b".*"front":0,"rank":2,"knee":false,"admissible":true' out.json
	# d: (.8 - .75) / .8 = .0625; c: .125; a: 500 / 2500 = .2
	grep -q '"id":"d".*"front":1,.*"admissible":false,"violation":0.06250*[0-9]*}' out.json
	grep -q '"id":"c".*"front":2,.*"violation":0.1250*[0-9]*}' out.json
	grep -q '"id":"a".*"front":3,.*"violation":0.20*[0-9]*}' out.json
	# a record marked infeasible by thresh-tune is not admissible
	res g 1 0.99 100 ',"feasible":false' | json2rec > g.rec
	pareto -q arch.rec g.rec | rec2json > out.json
	[ "$(ids)" = "a e b c" ]
	pareto -q -a arch.rec g.rec | rec2json > out.json
	# after the admissible fronts (a e b c, then d)
	grep -q '"id":"g".*"front":2,"rank":1,"knee":false,"admissible":false,"violation":0.0}' out.json
}

@test "nothing admissible: the least violating records are the front" {
	archive
	pareto -q --acc-min 0.95 arch.rec | rec2json > out.json
	[ "$(ids)" = "a" ]
	grep -q '"knee":true,"admissible":false' out.json
	pareto -f table --acc-min 0.95 arch.rec > table.txt
	grep -q 'none admissible: the least violating' table.txt
}

@test "--hv: per iteration, by hand, with a given and a derived reference" {
	archive
	# ref (.5, 4000), area 2000. Iteration 0 front a .1/3000, b .2/1000,
	# c .3/900: .4*1000 + .3*2000 + .2*100 = 1020 -> .51. Iteration 1 adds
	# e .15/2000: .4*1000 + .35*1000 + .3*1000 + .2*100 = 1070 -> .535
	pareto -q --hv --ref 0.5,4000 arch.rec | rec2json > out.json
	# (figures compared to about 1e-14: the sums carry float noise)
	grep -q '^{"type":"hv","v":1,"iter":0,"hv":0.5\(1\|099999*[0-9]\|10000*[0-9]\),"hv_abs":10\(20\|19\.9\)[0-9.]*,"ref":\[0.5,4000.0\],"n":4,"n_front":3}$' out.json
	grep -q '"type":"hv","v":1,"iter":1,"hv":0.53\(5\|49999*[0-9]\|50000*[0-9]\),' out.json
	grep -q '"iter":1,.*"n":5,"n_front":4}' out.json
	[ "$(grep -c '"type":"hv"' out.json)" -eq 2 ]
	# derived: 1.01 x iteration 0's largest error (.3) and MACs (3000)
	pareto -q --hv arch.rec | rec2json > out.json
	grep -q '"ref":\[0.30300*[0-9]*,3030.0\]' out.json
	# with constraints only admissible records count: iteration 0 has b
	# alone (a and c fail): .3 * 3000 = 900 of 2000
	pareto -q --hv --ref 0.5,4000 --acc-min 0.8 --macs-max 2500 arch.rec | rec2json > out.json
	grep -q '"iter":0,"hv":0.4\(5\|49999*[0-9]\|50000*[0-9]\),.*"n_front":1}' out.json
}

@test "--split test and --acc-key / --macs-key choose the objectives" {
	archive
	# every test figure is the same: all five tie on one front
	pareto -q --split test arch.rec | rec2json > out.json
	[ "$(grep -c '"front":0' out.json)" -eq 5 ]
	# error from the test key, MACs from the val key
	pareto -q --acc-key top1_ee_test --macs-key avg_macs_val arch.rec | rec2json > out.json
	[ "$(ids)" = "c" ]
}

@test "-f table: the front as a table with --cols, nothing else on stdout" {
	archive
	run --separate-stderr pareto -f table --hv --ref 0.5,4000 --cols id,note arch.rec
	assert_success
	assert_line --index 0 --regexp '^front +rank +knee +adm +iter +err% +MACs +id +note$'
	assert_line --index 1 --regexp '^ +0 +1 +no|yes'
	assert_line --index 3 --regexp '^ +0 +3 +\* +yes +0 +20\.00 +1000 +b +\{\.\.\.\}$'
	assert_output --partial "5 records, 5 admissible; first front: 4 records"
	assert_output --partial "iteration 1: hypervolume 0.535000"
	[ -z "$stderr" ]
	# in record mode the table goes to stderr, -q silences it
	run --separate-stderr pareto arch.rec
	[[ $stderr == *"front  rank  knee"* ]]
	run --separate-stderr pareto -q arch.rec
	[ -z "$stderr" ]
}

@test "--plot writes a PNG or an SVG through gnuplot" {
	command -v gnuplot || skip "gnuplot not installed"
	archive
	pareto -q --acc-min 0.8 --macs-max 2500 --hv --plot front.png arch.rec > /dev/null
	[ "$(head -c 8 front.png | od -An -c | tr -d ' ')" = '211PNG\r\n032\n' ]
	pareto -q --plot front.svg arch.rec > /dev/null
	grep -q '<svg' front.svg
	ls
	[ "$(ls | grep -c tmp)" -eq 0 ]
	run --separate-stderr pareto -q --plot nodir/front.png arch.rec
	assert_failure 73
	[ -z "$output" ]
}

@test "--plot: a figure cut short by a full disk fails and leaves nothing behind" {
	command -v gnuplot || skip "gnuplot not installed"
	archive
	# gnuplot itself exits 0 when its writes fail: a 2 KiB file size limit
	# (SIGXFSZ ignored, so writes fail with EFBIG) stands for the full disk
	run --separate-stderr bash -c 'trap "" XFSZ; ulimit -f 2; exec pareto -q --plot front.png arch.rec'
	assert_failure 74
	[[ $stderr == *"--plot: the figure gnuplot wrote for front.png is incomplete"* ]]
	[ ! -e front.png ]
	[ "$(ls | grep -c tmp)" -eq 0 ]
	# a device that is always full: the figure's write fails, not exit 0
	ln -s /dev/full full.png
	run --separate-stderr pareto -q --plot full.png arch.rec
	assert_failure 74
	[ -L full.png ]
}

@test "--plot: a constraint outside the archive's range widens the axis to show its line" {
	command -v gnuplot || skip "gnuplot not installed"
	archive
	# errors are 10-30 %: 1 % (--acc-min .99) lies left of them, 50 % right;
	# gnuplot draws no arrow outside the plot's range
	for acc in 0.99 0.5; do
		pareto -q --acc-min $acc --plot c.svg arch.rec > /dev/null
		[ "$(red c.svg)" -eq 1 ] || { echo "--acc-min $acc: no constraint line"; return 1; }
	done
	# MACs are 900-3000: 9000 lies above them; both lines, in one path
	pareto -q --acc-min 0.99 --macs-max 9000 --hv --plot c.svg arch.rec > /dev/null
	grep "<path stroke='rgb(255,   0,   0)'" c.svg | grep -q "d='M[^M]*M"
	# the hypervolume panel below keeps its own range: iterations 0 and 1
	grep -q '> 1.5</tspan>' c.svg
}

@test "bad input: exit 65 naming record and key, no partial output" {
	archive
	for bad in '"top1_ee_val":1.5' '"top1_ee_val":"high"' '"avg_macs_val":-1' \
	    '"iter":-1' '"iter":1.5' '"feasible":1'; do
		{ res a 0 0.9 3000; res b 0 0.8 1000 | sed "s/}\$/,$bad}/"; } | json2rec > bad.rec
		run --separate-stderr pareto -q bad.rec
		[ "$status" -eq 65 ] || { echo "$bad: exit $status"; return 1; }
		[ -z "$output" ] || { echo "$bad: partial output"; return 1; }
		key=${bad%%\":*}
		key=${key#\"}
		[[ $stderr == *"bad.rec: record 2: key \"$key\""* ]] || { echo "$bad: $stderr"; return 1; }
	done
	# a result record without the accuracy key
	echo '{"type":"result","v":1,"avg_macs_val":5}' | json2rec > nokey.rec
	run --separate-stderr pareto -q nokey.rec
	assert_failure 65
	[[ $stderr == *'record 1: key "top1_ee_val"'* ]]
	# truncated stream
	head -c 30 arch.rec > trunc.rec
	run --separate-stderr pareto -q trunc.rec
	assert_failure 65
	[ -z "$output" ]
	run --separate-stderr pareto -q missing.rec
	assert_failure 66
}

@test "an empty archive is no error" {
	: > empty.rec
	run --separate-stderr pareto -q --hv empty.rec
	assert_success
	[ -z "$output" ]
}

# heat ID [THRESHOLDS] [HEATMAP]: a result record as thresh-tune --heatmap
# 1,2 writes it for a three-exit EENN on the grid .5, 1 (thresh-tune.bats
# works the same case): exit 1's utilisation is .4 at threshold .5, 0 at 1.
heat() {
	local hm='{"exits":[1,2],"split":"test","grid":[0.5,1.0],"utilization":[[[0.4,0.4,0.2],[0.4,0.0,0.6]],[[0.0,0.8,0.2],[0.0,0.0,1.0]]],"top1":[[0.8,0.8],[0.6,0.8]],"avg_macs":[[220,250],[290,340]]}'
	res "$1" 0 0.8 220 ",\"thresholds\":${2:-[1.0,0.5]},\"heatmap\":${3:-$hm}"
}

# red PATH: the red strokes gnuplot drew in an SVG (the thresholds' marks).
red() {
	grep -c "<path stroke='rgb(255,   0,   0)'" "$1" || true
}

@test "--heatmap-plot: thresh-tune --heatmap of a synthetic EENN as PNG and SVG" {
	command -v gnuplot || skip "gnuplot not installed"
	exo_gen s.exo 2000 5 10 3 > s.rec
	thresh-tune --heatmap 1,2 s.rec > h.rec 2> /dev/null
	pareto --heatmap-plot heat.png h.rec > out.rec 2> err.txt
	grep -q "1 heat map records drawn, 0 records without heatmap" err.txt
	# the records written are pareto's as ever: the one record, annotated
	[ "$(rec2json out.rec | grep -c '"front":0,"rank":1,"knee":true')" -eq 1 ]
	# five exits, one panel each, in 3 x 2
	[ "$(head -c 8 heat.png | od -An -c | tr -d ' ')" = '211PNG\r\n032\n' ]
	[[ $(file heat.png) == *"PNG image data, 1320 x 850,"* ]]
	[ "$(stat -c %s heat.png)" -gt 50000 ]
	pareto -q --heatmap-plot heat.svg h.rec > /dev/null
	[[ $(file heat.svg) == *"SVG"* ]]
	[ "$(grep -c '<image ' heat.svg)" -eq 5 ]
	grep -q '>threshold of exit 1<' heat.svg
	grep -q '>threshold of exit 2<' heat.svg
	grep -q '>h.rec record 1: exit 5 (final)<' heat.svg
	# the tuned thresholds are on the default grid: a box in every panel
	[ "$(red heat.svg)" -eq 5 ]
	# --exit: that exit alone
	pareto -q --heatmap-plot one.png --exit 3 h.rec > /dev/null
	[[ $(file one.png) == *"PNG image data, 440 x 450,"* ]]
	[ "$(ls | grep -c tmp)" -eq 0 ]
}

@test "--heatmap-plot: axes, the thresholds' mark, several records, --plot alongside" {
	command -v gnuplot || skip "gnuplot not installed"
	{ heat a; heat b '[0.75,0.5]'; heat c; res d 0 0.5 100; } | json2rec > h.rec
	run --separate-stderr pareto --heatmap-plot all.svg --plot front.svg h.rec
	assert_success
	[[ $stderr == *"3 heat map records drawn, 1 records without heatmap"* ]]
	grep -q '<svg' front.svg
	# a row per record, a panel per exit; panels titled by id
	[ "$(grep -c '<image ' all.svg)" -eq 9 ]
	grep -q '>b: exit 2<' all.svg
	# every cell labelled: exit 3's 0.60 and 1.00
	grep -q '>0.60<' all.svg
	grep -q '>1.00<' all.svg
	# exit i on x, j on y: thresholds (1, .5) box the cell right and below
	pareto -q --heatmap-plot a.svg --exit 1 <(heat a | json2rec) > /dev/null
	[ "$(red a.svg)" -eq 1 ]
	read -r ix iy iw ih < <(grep -o "<image x='[0-9.]*' y='[0-9.]*' width='[0-9.]*' height='[0-9.]*'" a.svg |
	    tr -c '0-9.\n' ' ')
	grep "<path stroke='rgb(255,   0,   0)'" a.svg | grep -o "d='[^']*'" |
	    grep -o '[0-9.]*,[0-9.]*' | tr , ' ' |
	    awk -v x="$ix" -v y="$iy" -v w="$iw" -v h="$ih" '
		$1 < x + w / 2 - 1 || $1 > x + w + 1 || $2 < y + h / 2 - 1 || $2 > y + h + 1 { bad++ }
		END { exit NR < 4 || bad }'
	# between grid values: a ring; off the grid or without thresholds: none
	pareto -q --heatmap-plot b.svg --exit 1 <(heat b '[0.75,0.5]' | json2rec) > /dev/null
	[ "$(red b.svg)" -eq 1 ]
	pareto -q --heatmap-plot c.svg --exit 1 <(heat c '[0.25,0.5]' | json2rec) > /dev/null
	[ "$(red c.svg)" -eq 0 ]
	grep -q '>c: exit 1, thresholds off the grid<' c.svg
	heat e | sed 's/"thresholds":\[[^]]*\],//' | json2rec > e.rec
	pareto -q --heatmap-plot e.svg e.rec > /dev/null
	[ "$(red e.svg)" -eq 0 ]
	# a name that is not a plain string stays text
	heat 'x_\"y' | json2rec | pareto -q --heatmap-plot x.svg --exit 1 > /dev/null
	grep -q '>x_"y: exit 1<' x.svg
}

@test "--heatmap-plot: bad options exit 64, bad records 65, nothing written" {
	heat a | json2rec > h.rec
	for args in "--exit 0" "--exit x" "--exit 2" "--heatmap-plot heat.pdf" \
	    "--heatmap-plot heat --exit 1"; do
		run --separate-stderr pareto $args h.rec
		[ "$status" -eq 64 ] || { echo "$args: exit $status"; return 1; }
		[ -z "$output" ] || { echo "$args: output on stdout"; return 1; }
	done
	run --separate-stderr pareto --exit 2 h.rec
	[[ $stderr == *'--exit: only with --heatmap-plot'* ]]
	# no record with a heatmap
	archive
	run --separate-stderr pareto --heatmap-plot heat.png arch.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'--heatmap-plot: no record carries a heatmap (thresh-tune --heatmap i,j adds one)'* ]]
	# an exit the EENN does not have
	run --separate-stderr pareto --heatmap-plot heat.png --exit 4 arch.rec h.rec
	assert_failure 65
	[ -z "$output" ]
	[[ $stderr == *'h.rec: record 1: key "heatmap": --exit 4: the EENN has 3 exits'* ]]
	# each way a heatmap can be wrong
	while IFS='|' read -r from to msg; do
		heat a | sed "s/$from/$to/" | json2rec > bad.rec
		run --separate-stderr pareto --heatmap-plot heat.png --plot front.png arch.rec bad.rec
		[ "$status" -eq 65 ] || { echo "$from: exit $status"; return 1; }
		[ -z "$output" ] || { echo "$from: partial output"; return 1; }
		[[ $stderr == *"bad.rec: record 1: key \"$msg"* ]] || { echo "$from: $stderr"; return 1; }
	done <<'EOF_BAD'
"heatmap":{.*}}|"heatmap":[1]}|heatmap": not a map
"grid":\[0.5,1.0\]|"grid":[1.0,0.5]|heatmap": grid: not ascending at [1]
"grid":\[0.5,1.0\]|"grid":[]|heatmap": grid: empty
"grid":\[0.5,1.0\]|"grid":[0.5,1.5]|heatmap": grid[1]: not a number in [0, 1]
"grid":\[0.5,1.0\],|"grid":[0.25,0.5,1.0],|heatmap": utilization: not an array of 3
\[0.4,0.0,0.6\]|[0.4,0.6]|heatmap": utilization[0][1]: not an array of 3
\[0.4,0.0,0.6\]|[0.4,0.0,1.6]|heatmap": utilization[0][1][2]: not a number in [0, 1]
\[0.4,0.0,0.6\]|[0.4,0.0,"x"]|heatmap": utilization[0][1][2]: not a number in [0, 1]
\[\[0.0,0.8,0.2\],\[0.0,0.0,1.0\]\]|[[0.0,0.8,0.2]]|heatmap": utilization[1]: not an array of 2
"exits":\[1,2\]|"exits":[1,1]|heatmap": exits: the same exit twice
"exits":\[1,2\]|"exits":[1,3]|heatmap": exits[1]: not an intermediate exit of 3 (1 to 2)
"exits":\[1,2\]|"exits":[1]|heatmap": exits: not an array of 2
"thresholds":\[1.0,0.5\]|"thresholds":[1.0]|thresholds"
"thresholds":\[1.0,0.5\]|"thresholds":[1.0,2]|thresholds[1]"
EOF_BAD
	[ ! -e heat.png ] && [ ! -e front.png ]
	# 17 records of three exits, a row each: too many panels; one exit fits
	for i in $(seq 17); do heat "r$i"; done | json2rec > many.rec
	run --separate-stderr pareto -q --heatmap-plot heat.png --plot front.png many.rec
	assert_failure 65
	[[ $stderr == *'51 heat maps in 17 x 3 panels, more than 48: choose one exit with --exit'* ]]
	[ ! -e heat.png ] && [ ! -e front.png ]
	if command -v gnuplot; then
		pareto -q --heatmap-plot heat.png --exit 3 many.rec > /dev/null
		[[ $(file heat.png) == *"PNG image data, 2200 x 1650,"* ]]
	fi
	[ "$(ls | grep -c tmp)" -eq 0 ]
}
