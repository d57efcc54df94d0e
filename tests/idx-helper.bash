# idx-helper.bash - tiny synthetic IDX datasets for the trainers' tests,
# and a tiny EENN trained on one.

# mkidx DIR K NTRAIN NTEST [hard]: an 8x8 one-channel IDX set with K
# classes that differ in brightness (class k around 20 + 200k/(K-1)); with
# "hard", class k is around 40 + 170k/(K-1), shifted per image by up to +-60
# and per pixel by up to +-40, so neighbouring classes overlap and early
# exits disagree. Train files gzip'd, test files plain, so both readers run.
mkidx() {
	mkdir -p "$1"
	perl -e '
		my ($dir, $K, $ntr, $nte, $hard) = @ARGV;
		srand($hard ? 3 : 1);
		for my $s (["train", $ntr], ["t10k", $nte]) {
			my ($split, $n) = @$s;
			open(my $im, ">", "$dir/$split-images-idx3-ubyte") or die;
			open(my $lb, ">", "$dir/$split-labels-idx1-ubyte") or die;
			binmode $im; binmode $lb;
			print $im pack("NNNN", 0x803, $n, 8, 8);
			print $lb pack("NN", 0x801, $n);
			for my $i (0 .. $n - 1) {
				my $y = $i % $K;
				print $lb pack("C", $y);
				if (!$hard) {
					print $im pack("C*", map { int(20 + 200 * $y / ($K - 1) + rand(30)) } 1 .. 64);
					next;
				}
				my $b = 40 + 170 * $y / ($K - 1) + rand(120) - 60;
				print $im pack("C*", map { my $v = int($b + rand(80) - 40);
				    $v < 0 ? 0 : $v > 255 ? 255 : $v } 1 .. 64);
			}
		}' "$1" "$2" "$3" "$4" "${5:+1}"
	gzip "$1"/train-*
}

# tiny_eenn DIR: in DIR, the hard three-class set h3 (600 train, 120 test
# images), the all-min EENN at 16x16 (e.rec) trained on it for a few epochs
# by eenn-train, NACHOS phases (h.ckpt, r.rec), and its exit outputs at
# batch 1 by eenn-infer --write-exo (h.exo, x.rec).
tiny_eenn() {
	(
		cd "$1" || exit 1
		mkidx h3 3 600 120 hard
		ofa-sample --extremes -n 1 --in-ch 1 --resolution 16 --classes 3 |
		    eec-place > e.rec
		eenn-train --data "$1/h3" --method nachos --mu1 1 --mu2 2 --mu3 1 --batch 16 \
		    --threads 1 -o "$1/h.ckpt" e.rec > r.rec 2> /dev/null
		eenn-infer --weights "$1/h.ckpt" --data "$1/h3" --write-exo "$1/h.exo" e.rec \
		    > x.rec 2> /dev/null
	)
}
