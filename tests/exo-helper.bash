# exo-helper.bash - exit-outputs files (formats/exo.md) in bats tests.

# quantiles EXO KEY Q1,Q2,...: for intermediate exit i, the Qi-quantile of
# its KEY scores (cumw, maxp, margin, entropy) on the test split of the
# exit-outputs file EXO, comma-separated: thresholds that send a share of
# the samples out at each exit whatever the trained weights. Each lies
# halfway between two sample scores, not on one, so outputs computed at
# another batch size (last bits differ) still leave at the same exits.
quantiles() {
	rec2json < "$1" | jq -r --arg k "$2" 'select(.split == "test") |
	    .[$k][:-1][] | ."$base64"' |
	    perl -MMIME::Base64 -e '
		my @q = split /,/, $ARGV[0]; my @t; my $i = 0;
		while (my $line = <STDIN>) {
			my @v = sort { $a <=> $b } unpack("f<*", decode_base64($line));
			my $k = int($q[$i++] * ($#v - 1));
			push @t, sprintf("%.9g", ($v[$k] + $v[$k + 1]) / 2);
		}
		print join(",", @t), "\n";' "$3"
}
