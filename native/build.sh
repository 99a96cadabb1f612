#!/usr/bin/env bash
# Builds the C tools next to the MuJoCo binding into native/target/ (needs cc and libmujoco-dev):
#   mjlayout               prints the struct layout table of the installed MuJoCo headers
#   mjbench                env steps/s of a task in plain C (the reference for MujocoBench)
#   libdmerl_mjguard.so    the error guard the Java binding otherwise compiles on first use
# With --layout it also regenerates the checked-in table for the installed MuJoCo version.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
RES=../dmerl-env/src/main/resources/org/dmerl/env/mujoco
INC=${MUJOCO_INCLUDE:-/usr/include}
mkdir -p target
cc -O2 -Wall -I"$INC" mjlayout.c -o target/mjlayout
cc -O2 -Wall -I"$INC" mjbench.c -o target/mjbench -lmujoco -lpthread -lm
cc -O2 -Wall -shared -fPIC "$RES/mjguard.c" -o target/libdmerl_mjguard.so
if [ "${1:-}" = "--layout" ]; then
  version=$(target/mjlayout | sed -n 's/^version //p')
  if [ "$version" -ge 1000000 ]; then
    name="$((version / 1000000)).$((version / 1000 % 1000)).$((version % 1000))"
  else
    name="$((version / 100)).$((version / 10 % 10)).$((version % 10))"
  fi
  target/mjlayout "$RES/mujoco-$name.layout"
  echo "wrote $RES/mujoco-$name.layout"
fi
echo "built native/target/{mjlayout,mjbench,libdmerl_mjguard.so}"
