#!/usr/bin/env bash
# Wall time of one experiment on a Spark standalone cluster on this machine, in two layouts of the same cores
# (README "Scaling out"):
#   2x1  two workers with 1 core each, --executor-threads 1: two executor JVMs, one engine thread each;
#   1x2  one worker with 2 cores, --executor-threads 2: one executor JVM computing one chunk at a time on two threads.
# Usage: scripts/spark-speedup.sh [--images N] [CONFIG]      (default CONFIG: experiments/spark-speedup.json)
# Measure on an otherwise idle machine: before each layout the script measures for 3 s how busy the CPUs are without
# it and warns above 10 %. Per layout it prints the wall time of `lustra eval run` (driver start to exit: Spark,
# executor start and model loading included), when the first chunk started, the chunks' mean and summed task time
# and the busy span (first chunk start to last chunk end), then the speed-up of 2x1 over 1x2. Both layouts must give
# identical records and report (scripts/SameRun.java), else it fails. Everything runs on 127.0.0.1; every process it
# starts is stopped on exit; bounded by `timeout` (LUSTRA_SPEEDUP_LIMIT seconds, default 3600). Logs and run
# directories stay in the printed folder.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
limit="${LUSTRA_SPEEDUP_LIMIT:-3600}"
if [ -z "${LUSTRA_SPEEDUP_BOUNDED:-}" ]; then
  LUSTRA_SPEEDUP_BOUNDED=1 exec timeout -k 30 "$limit" "$BASH" "$0" "$@"
fi

config="$here/experiments/spark-speedup.json"
images=()
while [ $# -gt 0 ]; do
  case "$1" in
    --images) images=(--images "$2"); shift 2 ;;
    -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
    *) config="$1"; shift ;;
  esac
done
[ -f "$config" ] || { echo "spark-speedup: no experiment config $config" >&2; exit 2; }
tmp="$(mktemp -d "${TMPDIR:-/tmp}/lustra-spark-speedup.XXXXXX")"
start=$SECONDS
name=spark-speedup
. "$here/scripts/spark-lib.sh"

trap 'stop_all; say "logs and run directories in $tmp"' EXIT
trap 'say "stopped by a signal (time limit ${limit} s?)"; exit 124' TERM INT

# CPU ticks (user + system) the processes started here have used so far, from /proc/PID/stat.
our_ticks() {
  local p f t=0
  for p in "${pids[@]}"; do
    { read -r f <"/proc/$p/stat"; } 2>/dev/null || continue
    f=(${f##*) }) # from STATE on: utime and stime are the 12th and 13th
    t=$((t + f[11] + f[12]))
  done
  echo "$t"
}

# Percentage of all CPUs' time that other processes kept busy (not idle or waiting for I/O) over the next 3 seconds,
# from /proc/stat, the ticks of the processes started here (the master) taken out.
cpu_busy_percent() {
  local c u n s i w q sq st t1 i1 o1
  read -r c u n s i w q sq st _ </proc/stat
  t1=$((u + n + s + i + w + q + sq + st)) i1=$((i + w)) o1=$(our_ticks)
  sleep 3
  read -r c u n s i w q sq st _ </proc/stat
  local total=$((u + n + s + i + w + q + sq + st - t1))
  echo $((100 * (total - (i + w - i1) - ($(our_ticks) - o1)) / total))
}

# The driver log's task lines (milliseconds since the driver started in front): first start, last end, count, sum.
task_times() {
  awk '/TaskSetManager - Starting task/ { if (first == "") first = $1 }
       /TaskSetManager - Finished task/ { last = $1; n++; for (i = 1; i < NF; i++) if ($(i + 1) == "ms") sum += $i }
       END { printf "%s %s %d %d\n", first, last, n, sum }' "$1"
}

say "building if needed; experiment $(basename "$config") ${images[*]}"
prepare
start_master
results=() walls=() spans=()
for layout in 2x1 1x2; do
  workers=${layout%x*} threads=${layout#*x}
  busy=$(cpu_busy_percent)
  say "layout $layout: $workers worker(s) x $threads engine thread(s); other processes kept the CPUs ${busy} % busy"
  [ "$busy" -le 10 ] || say "WARNING: other processes use ${busy} % of the CPUs: these are not an idle machine's times"
  before=${#pids[@]}
  for w in $(seq 1 "$workers"); do start_worker "worker-$layout-$w" "$threads"; done
  t0=$(date +%s%N)
  start_driver "$config" "$tmp/run-$layout" "$threads" "${images[@]}"
  wait "$driver" || fail "the $layout run failed (see $tmp/run-$layout.log)"
  forget "$driver"
  wall_ms=$((($(date +%s%N) - t0) / 1000000))
  read -r first last tasks sum < <(task_times "$tmp/run-$layout.log")
  [ "$tasks" -gt 0 ] || fail "no finished task in $tmp/run-$layout.log"
  results+=("$(awk -v l="$layout" -v w="$wall_ms" -v f="$first" -v e="$last" -v n="$tasks" -v s="$sum" 'BEGIN {
    printf "| %s | %.1f | %.1f | %d | %.2f | %.1f | %.1f |", l, w / 1000, f / 1000, n, s / n / 1000, s / 1000,
      (e - f) / 1000 }')")
  say "${results[-1]}"
  walls+=("$wall_ms")
  spans+=("$((last - first))")
  layout_workers=("${pids[@]:$before}")
  stop_pids "${layout_workers[@]}"
  forget "${layout_workers[@]}"
done
same_run "$tmp/run-2x1" "$tmp/run-1x2" || fail "the two layouts computed different records or reports"

echo
echo "Experiment $(basename "$config")${images[*]:+ ${images[*]}}: $(lines "$tmp/run-2x1") records, $(nproc) CPUs"
echo "| layout | wall s | first chunk started at s | chunks | mean chunk s | chunk time summed s | busy span s |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${results[@]}"
awk -v a="${walls[0]}" -v b="${walls[1]}" -v c="${spans[0]}" -v d="${spans[1]}" 'BEGIN {
  printf "speed-up of 2 workers x 1 thread over 1 worker x 2 threads: %.2f x (wall), %.2f x (busy span)\n",
    b / a, d / c }'
