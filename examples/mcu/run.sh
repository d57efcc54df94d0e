#!/bin/sh
# run.sh DIR IMAGES [ELF]: cross-compile the exported C in DIR (eenn-export's
# int8/ or f32/) and its harness for a Cortex-M7 with arm-none-eabi-gcc,
# then run it under qemu-system-arm -M mps2-an500 on IMAGES, raw uint8
# images the harness opens on the host through semihosting (the console
# would lose bytes). Prints the harness's "class exit" lines on stdout and
# arm-none-eabi-size's figures on stderr; ELF: where the program goes
# (default: DIR/eenn.elf). Exit status: the build's or QEMU's.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=$1 images=$2
name=$(basename "$(ls "$dir"/*_main.c)" _main.c)
elf=${3:-$dir/$name.elf}
arm-none-eabi-gcc -std=c99 -O2 -mcpu=cortex-m7 -mthumb -mfloat-abi=hard \
    -mfpu=fpv5-d16 --specs=rdimon.specs -T "$here/mps2-an500.ld" \
    -o "$elf" "$here/startup.c" "$dir/$name.c" "$dir/${name}_main.c" -lm
arm-none-eabi-size "$elf" >&2
elf=$(cd "$(dirname "$elf")" && pwd)/$(basename "$elf")
# the harness reads the file QEMU's working directory names
cd "$(dirname "$images")"
exec timeout 600 qemu-system-arm -M mps2-an500 -cpu cortex-m7 -display none \
    -serial none -monitor none -semihosting-config enable=on,target=native \
    -kernel "$elf" -append "$(basename "$images")"
