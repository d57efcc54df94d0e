#!/bin/sh
# Latency table accuracy (issue 14): a lat-table table for Fashion-MNIST's
# input (32x32x1, K = 10) at width W (default 1.0), then NETS random EENNs
# of the space (default 30) at random initialisation; for each exit i of
# each, the latency predicted by mac-count --latency against eenn-infer's
# measured per-sample latency at batch 1, one thread, with thresholds
# that send every sample out at exit i, over N test images (default 200):
# its median (p50) and its minimum, every sample there running the same
# operations.
# The (network, exit) runs go round PASSES times (default 3), interleaved,
# so load from other processes falls on every point alike; each point is
# the median of its passes and, robust to a machine shared with other
# work, the fastest of them (a preemption only ever adds time). Prints the
# CPU model, the load average before and after, the table's own fit error,
# Spearman's rho, the mean absolute percentage error and the geometric mean
# of predicted/measured of each statistic, the last for intermediate and
# final exits apart (a bias there is the working-set model's, a scatter the
# machine's); lat-table --check gives the same comparison inside the
# engine.
set -e
cd "$(dirname "$0")/../.."
w=${W:-1.0} nets=${NETS:-30} n=${N:-200} passes=${PASSES:-3}
data=${DATA:-/usr/share/datasets/fashion-mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
bin/lat-table --width "$w" --in-ch 1 > "$tmp/lat.rec" 2> /dev/null
bin/ofa-sample -n "$nets" --seed 5 --width "$w" --in-ch 1 | bin/eec-place |
    bin/mac-count -f rec --latency "$tmp/lat.rec" | bin/rec2json > "$tmp/nets.json"
: > "$tmp/meas"
p=0
while [ "$p" -lt "$passes" ]; do
	i=0
	while [ "$i" -lt "$nets" ]; do
		sed -n "$((i + 1))p" "$tmp/nets.json" | bin/json2rec > "$tmp/net.rec"
		b=$(sed -n "$((i + 1))p" "$tmp/nets.json" | jq '.exit_stages | length')
		x=0
		while [ "$x" -lt "$b" ]; do
			# 1 before exit x, 0 at it: every sample leaves there
			thr=$(jq -rn --argjson b "$b" --argjson x "$x" \
			    '[range($b - 1) | if . < $x then 1 elif . == $x then 0 else 1 end] | join(",")')
			bin/eenn-infer --init-seed 1 --data "$data" --limit "$n" --threads 1 \
			    --thresholds "$thr" "$tmp/net.rec" 2> /dev/null | bin/rec2json |
			    jq -r --argjson i "$i" --argjson x "$x" \
			    '"\($i) \($x) \(.infer_latency_p50_ms) \(.infer_latency_min_ms)"' >> "$tmp/meas"
			x=$((x + 1))
		done
		i=$((i + 1))
	done
	p=$((p + 1))
done
jq -rc '[.exit_latency]' "$tmp/nets.json" | awk '{ print NR - 1, $0 }' > "$tmp/pred"
perl -e '
	my ($predf, $measf) = @ARGV;
	my (%pred, %meas);
	my %last;
	open(my $p, "<", $predf) or die; while (<$p>) { my ($i, $j) = /^(\d+) \[\[(.*)\]\]/; my @v = split /,/, $j; $pred{"$i $_"} = $v[$_] for 0 .. $#v; $last{$i} = $#v; }
	my %mmin;
	open(my $m, "<", $measf) or die; while (<$m>) { my ($i, $x, $v, $w) = split; push @{$meas{"$i $x"}}, $v; push @{$mmin{"$i $x"}}, $w; }
	my (@a, @b, @f, @g, %lr);
	for my $k (sort keys %meas) { my @s = sort { $a <=> $b } @{$meas{$k}}; my @t = sort { $a <=> $b } @{$mmin{$k}};
		push @a, $pred{$k}; push @b, $s[int($#s / 2)]; push @f, $s[0]; push @g, $t[0];
		my ($i, $x) = split / /, $k; my $kind = $x == $last{$i} ? "final" : "intermediate";
		push @{$lr{"$kind p50"}}, log($pred{$k} / $s[int($#s / 2)]); push @{$lr{"$kind fastest"}}, log($pred{$k} / $t[0]); }
	sub ranks { my @x = @_; my @o = sort { $x[$a] <=> $x[$b] } 0 .. $#x; my @r; my $i = 0;
		while ($i <= $#o) { my $j = $i; $j++ while $j < $#o && $x[$o[$j + 1]] == $x[$o[$i]];
			$r[$o[$_]] = ($i + $j) / 2 + 1 for $i .. $j; $i = $j + 1; } return @r; }
	sub cmp2 { my ($x, $y) = @_; my @ra = ranks(@$x); my @rb = ranks(@$y); my $n = @ra;
		my ($ma, $mb) = (0, 0); $ma += $_ / $n for @ra; $mb += $_ / $n for @rb;
		my ($sab, $saa, $sbb, $ape, $lr) = (0, 0, 0, 0, 0);
		for (0 .. $n - 1) { $sab += ($ra[$_] - $ma) * ($rb[$_] - $mb); $saa += ($ra[$_] - $ma) ** 2;
			$sbb += ($rb[$_] - $mb) ** 2; $ape += abs($x->[$_] - $y->[$_]) / $y->[$_];
			$lr += log($x->[$_] / $y->[$_]) / $n; }
		return ($n, $sab / sqrt($saa * $sbb), 100 * $ape / $n, exp($lr)); }
	printf "lat: %d points, Spearman rho %.3f, MAPE %.1f%%, predicted/measured %.2f (geometric mean) (predicted by the table / measured by eenn-infer p50, median of the passes)\n", cmp2(\@a, \@b);
	printf "lat: %d points, Spearman rho %.3f, MAPE %.1f%%, predicted/measured %.2f (geometric mean) (predicted by the table / measured by eenn-infer p50, fastest of the passes)\n", cmp2(\@a, \@f);
	printf "lat: %d points, Spearman rho %.3f, MAPE %.1f%%, predicted/measured %.2f (geometric mean) (predicted by the table / measured by eenn-infer, the fastest image of all passes)\n", cmp2(\@a, \@g);
	for my $c ("intermediate p50", "final p50", "intermediate fastest", "final fastest") { my $s = 0; $s += $_ for @{$lr{$c}};
		printf "lat:   %s exits, %s image: predicted/measured %.2f (geometric mean of %d)\n", split(/ /, $c), exp($s / @{$lr{$c}}), scalar @{$lr{$c}}; }
' "$tmp/pred" "$tmp/meas" > "$tmp/res"
echo "lat: $cpu; width $w, 32x32x1, $nets random EENNs, batch 1, 1 thread, $n images, $passes passes"
echo "lat: load average (1, 5, 15 min) $load0 before, $(cut -d' ' -f1-3 /proc/loadavg) after the eenn-infer passes"
bin/rec2json "$tmp/lat.rec" | jq -r '"lat: the table: \(.entries | length) configurations, its fit on \(.fit_points) carrier exits: MAPE \(.fit_mape * 1000 | round / 10)%, largest \(.fit_max_ape * 1000 | round / 10)%; c(W) \([.ws_bytes, .ws_ms_per_mb] | transpose | map("\(.[0] / 1e6 * 10 | round / 10) MB: \(.[1] * 1e4 | round / 1e4)") | join(", ")) ms/MB; image \(.image_ms * 1e4 | round / 1e4) ms, exit \(.exit_ms * 1e4 | round / 1e4) ms"'
cat "$tmp/res"
bin/lat-table --check "$nets" "$tmp/lat.rec" | bin/rec2json |
    jq -r '"lat: lat-table --check (inside the engine): rho \(.spearman * 1000 | round / 1000), MAPE \(.mape * 1000 | round / 10)%, predicted/measured \(.ratio * 100 | round / 100); fastest: rho \(.spearman_fastest * 1000 | round / 1000), MAPE \(.mape_fastest * 1000 | round / 10)%, predicted/measured \(.ratio_fastest * 100 | round / 100)"'
