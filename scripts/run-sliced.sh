#!/usr/bin/env bash
# Runs `lustra eval run` configs one after another in slices of at most SLICE seconds under the shared heavy lock
# (/tmp/lustra-heavy.lock), releasing it between slices so other jobs can build or compute; the harness resumes a
# killed run at its first unfinished chunk (a chunk cut by the kill is redone), so the numbers are those of an
# uninterrupted run. Usage: scripts/run-sliced.sh [--slice 600] CONFIG:OUTDIR...
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
slice=600
if [ "${1:-}" = "--slice" ]; then slice="$2"; shift 2; fi
export JAVA_TOOL_OPTIONS="${JAVA_TOOL_OPTIONS:--Dai.djl.pytorch.num_threads=1}"
export DNNL_MAX_CPU_ISA="${DNNL_MAX_CPU_ISA:-AVX}"
for pair in "$@"; do
  config="${pair%%:*}"; out="${pair#*:}"
  while true; do
    echo "[$(date -u +%H:%M:%S)] waiting for the lock: $config -> $out"
    flock /tmp/lustra-heavy.lock sh -c "echo \"[\$(date -u +%H:%M:%S)] lock held\"; exec timeout -s TERM $slice \
      \"$here/lustra\" eval run \"$config\" --out \"$out\""
    rc=$?
    if [ $rc -eq 0 ]; then echo "[$(date -u +%H:%M:%S)] done: $out"; break; fi
    if [ $rc -ne 124 ] && [ $rc -ne 143 ]; then echo "[$(date -u +%H:%M:%S)] failed ($rc): $config" >&2; exit $rc; fi
    echo "[$(date -u +%H:%M:%S)] slice over; releasing the lock"
    sleep 15
  done
done
