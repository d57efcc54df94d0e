#!/bin/sh
# run.sh [-c] DIR IMAGES [ELF]: cross-compile the exported C in DIR
# (eenn-export's int8/ or f32/) and its harness for a Cortex-M7 with
# arm-none-eabi-gcc, then run it under qemu-system-arm -M mps2-an500 on
# IMAGES, raw uint8 images the harness opens on the host through
# semihosting (the console would lose bytes). Prints the harness's
# "class exit" lines on stdout and arm-none-eabi-size's figures on stderr;
# ELF: where the program goes (default: DIR/NAME.elf).
# -c: count instructions instead (count.c, NAME eenn; QEMU's -icount):
# per image, the instructions run up to the end of exit 1, 2, ..., B.
# Exit status: the build's or QEMU's.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
count=
if [ "${1:-}" = -c ]; then
	count=1
	shift
fi
dir=$1 images=$2
name=$(basename "$(ls "$dir"/*_main.c)" _main.c)
elf=${3:-$dir/$name${count:+-count}.elf}
if [ -n "$count" ]; then
	main=$here/count.c icount="-icount shift=0"
else
	main=$dir/${name}_main.c icount=
fi
# shellcheck source=examples/mcu/flags.sh
. "$here/flags.sh"
# shellcheck disable=SC2086
arm-none-eabi-gcc $MCU_CFLAGS -T "$here/mps2-an500.ld" -I"$dir" \
    -o "$elf" "$here/startup.c" "$dir/$name.c" "$main" -lm
arm-none-eabi-size "$elf" >&2
elf=$(cd "$(dirname "$elf")" && pwd)/$(basename "$elf")
# the harness reads the file QEMU's working directory names
cd "$(dirname "$images")"
# shellcheck disable=SC2086
exec timeout 600 qemu-system-arm -M mps2-an500 -cpu cortex-m7 -display none \
    -serial none -monitor none -semihosting-config enable=on,target=native \
    $icount -kernel "$elf" -append "$(basename "$images")"
