#!/bin/sh
# Every man page carries the one exit-code table of lib/nachos.h, word for word.
status=0
table=$(sed -n '/^\.Sh EXIT STATUS/,/^\.Sh/p' man/nachos.7 | sed '1d;$d')
for m in "$@"; do
	case $m in *.7 | *.5) continue ;; esac  # overviews and record formats have no exit status
	got=$(sed -n '/^\.Sh EXIT STATUS/,/^\.Sh/p' "$m" | sed '1d;$d')
	if [ "$got" != "$table" ]; then
		echo "check-man: $m: EXIT STATUS differs from man/nachos.7" >&2
		status=1
	fi
done
exit $status
