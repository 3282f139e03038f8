#!/usr/bin/env bash
# Writes a help2man --include file with one section per command of PROGRAM,
# each the command's own --help, so the manual page lists every option, and
# a SEE ALSO section (the only one for a program without commands).
#   man-commands.sh PROGRAM OUT COMMAND...
set -euo pipefail
program=$1 out=$2
shift 2
{
  for cmd in "$@"; do
    echo "[${cmd^^} OPTIONS]"
    echo ".nf"
    "$program" "$cmd" --help | sed 's/\\/\\\\/g; s/^\./\\\&./'
    echo ".fi"
  done
  echo "[SEE ALSO]"
  echo "otasim(1), otasign(1), otasim\\-gui(1), otasim\\-mpi(1); the scenario format: /usr/share/otasim/scenarios/README.md"
} > "$out"
