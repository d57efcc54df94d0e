# shellcheck shell=sh
# The Cortex-M7 build (mps2-an500: FPv5 double-precision FPU, DSP
# extension), one copy for run.sh and the tests: sourced.
MCU_CFLAGS='-std=c99 -O2 -mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16 --specs=rdimon.specs'
