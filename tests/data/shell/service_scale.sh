#!/usr/bin/env bash
# Mimics `docker service scale helloworld=5` on a TTY: the CLI redraws its progress block
# in place with cursor-up (ESC[nA) and erase-line (ESC[2K) — see
# tests/fixtures/outputs/engine-20.10-cli-28.2/11-service-scale.txt for the non-TTY stream.
set -e
up() { printf '\033[%dA' "$1"; }
line() { printf '\033[2K\r%s\n' "$1"; }
echo "helloworld scaled to 5"
line "overall progress: 0 out of 5 tasks"
for i in 1 2 3 4 5; do line "$i/5:  "; done
for done_ in 1 2 3 4 5; do
  up 6
  line "overall progress: $done_ out of 5 tasks"
  for i in 1 2 3 4 5; do
    if [ "$i" -le "$done_" ]; then
      line "$i/5: running   [==================================================>] "
    else
      line "$i/5: starting  [============================================>      ] "
    fi
  done
done
for s in 5 4 3 2 1; do
  line "verify: Waiting $s seconds to verify that tasks are stable..."
  up 1
done
line "verify: Service converged "
