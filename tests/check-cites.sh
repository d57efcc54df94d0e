#!/bin/sh
# The method is man/nachos-method.7: code and documents cite it as
# "nachos-method(7) §n", never a file outside the repository.
cd "$(dirname "$0")/.." || exit 1
if grep -rnE 'SPEC ?(§|\\\(sc|[0-9])' lib src tests pipelines formats man examples README.md \
    --exclude=check-cites.sh; then
	echo "check-cites: cite the method as nachos-method(7) §n" >&2
	exit 1
fi
exit 0
