# Shared by scripts/spark-cluster-test.sh and scripts/spark-speedup.sh (sourced, not run): a Spark standalone master
# and workers on 127.0.0.1 started from the Spark jars in lustra-cli/target/lib (no Spark installation, nothing
# downloaded), `lustra eval run --engine spark` pointed at them, and every process stopped again.
# The sourcing script sets: here (the checkout), tmp (a scratch folder), start (=$SECONDS), name (its log prefix).

lib="$here/lustra-cli/target/lib"
pids=()  # every JVM started here (master, workers, drivers); stop_all stops them and their executors, newest first
export DNNL_MAX_CPU_ISA="${DNNL_MAX_CPU_ISA:-AVX}"
# every Spark process binds to and advertises loopback only
export SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_HOSTNAME=127.0.0.1

say() { echo "$name [$((SECONDS - start))s]: $*"; }
fail() { say "FAILED: $*"; exit 1; }

# The executors a worker launched: its child JVMs running CoarseGrainedExecutorBackend, found by reading the parent
# of every process in /proc/PID/stat (no procps needed; a field read, no process started per entry).
executors_of() {
  local d stat rest
  for d in /proc/[0-9]*; do
    { read -r stat <"$d/stat"; } 2>/dev/null || continue # the process may have ended since the glob
    rest=${stat##*) } # after "PID (COMM) ": STATE PPID ...
    rest=${rest#* }
    [ "${rest%% *}" = "$1" ] || continue
    tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -q CoarseGrainedExecutorBackend && echo "${d#/proc/}"
  done
  return 0
}

# Stops the given processes and the executors they launched: TERM, up to 10 s to exit, then KILL.
stop_pids() {
  local all=() p _
  for p in "$@"; do all+=($(executors_of "$p") "$p"); done
  for p in "${all[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 1 20); do
    local alive=0
    for p in "${all[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return 0
    sleep 0.5
  done
  for p in "${all[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}

# Drops processes that have been stopped or waited for from pids, so that stop_all never signals a reused PID.
forget() {
  local keep=() p q gone
  for p in "${pids[@]}"; do
    gone=0
    for q in "$@"; do [ "$p" = "$q" ] && gone=1; done
    [ "$gone" = 1 ] || keep+=("$p")
  done
  pids=("${keep[@]}")
}

stop_all() {
  local newest_first=() i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do newest_first+=("${pids[$i]}"); done
  [ ${#newest_first[@]} = 0 ] || stop_pids "${newest_first[@]}"
}

# wait_for DESCRIPTION SECONDS PID CONDITION...: polls CONDITION (a command, run anew each time) every half second
# for up to SECONDS; fails naming DESCRIPTION if it never holds or the process PID (0: none) ends first.
wait_for() {
  local what="$1" seconds="$2" pid="$3"
  shift 3
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    [ "$SECONDS" -ge "$deadline" ] && fail "no $what within $seconds s"
    if [ "$pid" != 0 ] && ! kill -0 "$pid" 2>/dev/null; then
      fail "a process ended before $what (see $tmp)"
    fi
    sleep 0.5
  done
}

# The module flags Spark 4 needs on Java 17 (org.apache.spark.launcher.JavaModuleOptions; spark-class adds them).
opens=(-XX:+IgnoreUnrecognizedVMOptions)
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util java.util.concurrent \
    java.util.concurrent.atomic jdk.internal.ref sun.nio.ch sun.nio.cs sun.security.action sun.util.calendar; do
  opens+=("--add-opens=java.base/$p=ALL-UNNAMED")
done

# Builds the jar if needed (the launcher rebuilds it when sources changed) and makes the SPARK_HOME the workers use.
prepare() {
  "$here/lustra" --version >/dev/null || fail "the build failed"
  [ -d "$lib" ] || fail "no $lib after the build"
  mkdir -p "$tmp/spark-home" && ln -sfn "$lib" "$tmp/spark-home/jars"
}

# A Spark JVM (master or worker) from the checkout's jars, logging to $tmp/NAME.log. Workers launch executors with
# SPARK_HOME/jars on their class path, so SPARK_HOME is a folder whose jars/ is lustra-cli/target/lib (and
# SPARK_SCALA_VERSION says which Scala build those are, as bin/load-spark-env.sh would). DNNL_MAX_CPU_ISA and
# TORCH_CPP_LOG_LEVEL are removed from their environment so that only the driver's spark.executorEnv can give them
# to the executors.
start_spark() {
  local log="$1"
  shift
  env -u DNNL_MAX_CPU_ISA -u TORCH_CPP_LOG_LEVEL SPARK_HOME="$tmp/spark-home" SPARK_SCALA_VERSION=2.13 \
    java "${opens[@]}" -Xmx256m -cp "$lib/*" -Dio.netty.tryReflectionSetAccessible=true "$@" >"$tmp/$log.log" 2>&1 &
  pids+=($!)
  disown "$!" # no "Killed" notice from bash when a test kills it
}

# Starts the master on a free port; sets master_pid and url (spark://127.0.0.1:PORT).
start_master() {
  start_spark master org.apache.spark.deploy.master.Master --host 127.0.0.1 --port 0 --webui-port 0
  master_pid=${pids[-1]}
  wait_for "master URL in the master's log" 60 "$master_pid" has_master_url
  url="$(master_url)"
}
master_url() { grep -o 'spark://127\.0\.0\.1:[0-9]*' "$tmp/master.log" | head -1; }
has_master_url() { [ -n "$(master_url)" ]; }

# start_worker LOGNAME CORES: a worker with CORES cores and 2 GB for executors; returns once the master has it.
start_worker() {
  mkdir -p "$tmp/$1"
  start_spark "$1" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --port 0 --webui-port 0 --cores "$2" \
    --memory 2g --work-dir "$tmp/$1" "$url"
  wait_for "registration of $1" 60 "${pids[-1]}" grep -q "Successfully registered with master" "$tmp/$1.log"
}

# start_driver CONFIG OUT THREADS [lustra options...]: `lustra eval run` on the cluster in the background, its
# output in OUT.log; sets driver. The scheduler's INFO lines (which executor runs which task, each task's time) are
# kept, with milliseconds since the driver started in front of every log line.
start_driver() {
  local config="$1" out="$2" threads="$3"
  shift 3
  local opts="-Dspark.driver.host=127.0.0.1 -Dspark.driver.bindAddress=127.0.0.1"
  opts+=" -Dorg.slf4j.simpleLogger.log.org.apache.spark.scheduler.TaskSetManager=info"
  opts+=" -Dorg.slf4j.simpleLogger.showDateTime=true"
  LUSTRA_JAVA_OPTS="${LUSTRA_JAVA_OPTS:-} $opts" "$here/lustra" eval run "$config" --out "$out" --engine spark \
    --master "$url" --executor-threads "$threads" "$@" >"$out.log" 2>&1 &
  driver=$!
  pids+=("$driver")
}

# The listening TCP sockets of the given processes, as ADDRESS:PORT in /proc/net/tcp's hex (no ss or netstat needed)
listening_of() {
  local inodes
  inodes=$(for p in "$@"; do ls -l "/proc/$p/fd" 2>/dev/null; done | sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p')
  awk -v ids="$(echo $inodes)" 'BEGIN { n = split(ids, a, " "); for (i = 1; i <= n; i++) ours[a[i]] = 1 }
    $4 == "0A" && ($10 in ours) { print $2 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
# 127.0.0.1, ::ffff:127.0.0.1 and ::1 as /proc/net/tcp{,6} write them
loopback='0100007F|0000000000000000FFFF00000100007F|00000000000000000000000001000000'

# Records in a run directory's journal.
lines() { [ -f "$1/samples.jsonl" ] && wc -l <"$1/samples.jsonl" || echo 0; }

# The Spark executor id of executor JVM PID (its --executor-id argument).
executor_id() { tr '\0' '\n' <"/proc/$1/cmdline" | sed -n '/^--executor-id$/{n;p}'; }

# same_run DIR_A DIR_B: exit 0 when both runs hold the same records and report (scripts/SameRun.java).
same_run() { (cd "$here" && java -cp "$lib/*" scripts/SameRun.java "$1" "$2"); }
