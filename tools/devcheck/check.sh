#!/usr/bin/env bash
# Runs ON THE REMOTE (bare x86-64 Linux, no Java needed):   OUT=/some/dir bash .devpkg/check.sh
# Writes cpu.txt, tests.txt, bench.txt, summary.txt and check.log (all of stdout) under $OUT.
# Budget: tests <= 240 s, bench <= 300 s (each killed 10 s after that, with a thread dump first).
# Env: BENCH_ONLY (default gemm,sac,sample,diffsac), BENCH_CPUS (default 2,3), TEST_TIMEOUT, BENCH_TIMEOUT,
#      SKIP_TESTS=1, SKIP_BENCH=1, BENCH_HELP_ONLY=1 (only `bench --help`: a cheap local dry run).
set -u
PKG="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -z "${OUT:-}" ]; then OUT="$PWD/devpkg-out"; echo "check.sh: OUT not set, using $OUT"; fi
mkdir -p "$OUT"
exec > >(tee -a "$OUT/check.log") 2>&1
TEE_PID=$!
finish() { exec >&- 2>&-; wait "$TEE_PID" 2>/dev/null; }   # let tee write the last lines before we exit
trap finish EXIT
# DMERL_JVM_FLAGS of bin/jdk.sh, which does not travel with the package
JVM_FLAGS=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:CompileCommand=quiet
  "-XX:CompileCommand=dontinline,org.dmerl.tensor.Elementwise::*" -XX:+UseCountedLoopSafepoints -XX:LoopStripMiningIter=1000 -XX:ObjectAlignmentInBytes=64)
BENCH_ONLY="${BENCH_ONLY:-gemm,sac,sample,diffsac}"
BENCH_CPUS="${BENCH_CPUS:-2,3}"
TEST_TIMEOUT="${TEST_TIMEOUT:-240}"
BENCH_TIMEOUT="${BENCH_TIMEOUT:-300}"
status=0
note() { echo "$*" | tee -a "$OUT/summary.txt"; }
: > "$OUT/summary.txt"

# ---- the runtime: must be executable (copies may lose the x bit, or land on a noexec mount) --------------------------
JRE="$PKG/jre"
if ! "$JRE/bin/java" -version >/dev/null 2>&1; then
  chmod -R u+rwX,go+rX "$JRE" 2>/dev/null; chmod +x "$JRE"/bin/* "$JRE"/lib/jspawnhelper "$JRE"/lib/jexec 2>/dev/null
  if ! "$JRE/bin/java" -version >/dev/null 2>&1; then
    T="${TMPDIR:-/tmp}/devpkg-jre.$$"
    echo "check.sh: $JRE/bin/java does not start here; trying a copy in $T"
    rm -rf "$T"; cp -r "$JRE" "$T" && chmod +x "$T"/bin/* "$T"/lib/jspawnhelper 2>/dev/null
    JRE="$T"
  fi
fi
JAVA="$JRE/bin/java"
echo "==== java -version ($JAVA)"
"$JAVA" -version 2>&1 | tee "$OUT/java-version.txt"
if [ "${PIPESTATUS[0]}" -ne 0 ]; then
  note "java: FAILED to start (ldd follows)"; ldd "$JRE/bin/java" "$JRE/lib/server/libjvm.so" 2>&1 | tee -a "$OUT/java-version.txt"
  exit 3
fi
echo "jre modules: $("$JAVA" --list-modules 2>/dev/null | sed 's/@.*//' | paste -sd, -)"
[ -f "$PKG/MANIFEST.txt" ] && { echo "==== MANIFEST"; cat "$PKG/MANIFEST.txt"; cp "$PKG/MANIFEST.txt" "$OUT/"; }

# ---- (a) CPU -----------------------------------------------------------------------------------------------------------
echo "==== (a) cpu -> $OUT/cpu.txt"
{
  echo "## lscpu"; lscpu 2>&1 || head -30 /proc/cpuinfo
  echo; echo "## avx512 flags"; grep -o 'avx512[a-z_0-9]*' /proc/cpuinfo | sort -u
  echo; echo "## lscpu -e (which CPUs share a core)"; lscpu -e=CPU,CORE,SOCKET,NODE,ONLINE,MAXMHZ 2>&1 | head -40
  echo; echo "## nproc $(nproc 2>&1); allowed: $(grep Cpus_allowed_list /proc/self/status | cut -f2)"
  echo "## cgroup cpu.max: $(cat /sys/fs/cgroup/cpu.max 2>/dev/null || echo n/a)"
  echo "## governor cpu2: $(cat /sys/devices/system/cpu/cpu2/cpufreq/scaling_governor 2>/dev/null || echo n/a)"
  echo "## uname: $(uname -a)"; echo "## loadavg: $(cat /proc/loadavg)"
  echo "## mem: $(grep -E 'MemTotal|MemAvailable' /proc/meminfo | tr -s ' ' | paste -sd' ' -)"
} > "$OUT/cpu.txt" 2>&1
cat "$OUT/cpu.txt"

# thread dump at the deadline (SIGQUIT), kill 10 s later (rc 137)
run_limited() {
  local secs=$1; shift
  if command -v timeout >/dev/null; then timeout -s QUIT -k 10 "$secs" "$@"; else "$@"; fi
}

# ---- (b) unit tests: dmerl-tensor + dmerl-nn -------------------------------------------------------------------------
if [ -z "${SKIP_TESTS:-}" ]; then
  echo "==== (b) tests -> $OUT/tests.txt (timeout ${TEST_TIMEOUT}s)"
  CP="$PKG/launcher:$PKG/classes/tensor:$PKG/classes/nn:$PKG/test-classes/tensor:$PKG/test-classes/nn:$PKG/lib/*"
  t0=$(date +%s)
  # same JVM flags as surefire's argLine in pom.xml
  run_limited "$TEST_TIMEOUT" "$JAVA" "${JVM_FLAGS[@]}" -Xss4m \
      -Djava.io.tmpdir="${TMPDIR:-/tmp}" -cp "$CP" RunTests "$PKG/test-classes/tensor" "$PKG/test-classes/nn" 2>&1 \
    | tee "$OUT/tests.txt"
  rc=${PIPESTATUS[0]}
  note "tests: rc=$rc ($(( $(date +%s) - t0 )) s) $(grep -E '^RunTests: (PASSED|FAILED|NO)' "$OUT/tests.txt" | tail -1)"
  [ "$rc" -eq 0 ] || status=1
fi

# ---- (c) bench ---------------------------------------------------------------------------------------------------------
if [ -z "${SKIP_BENCH:-}" ]; then
  echo "==== (c) bench -> $OUT/bench.txt (timeout ${BENCH_TIMEOUT}s)"
  # `dmerl bench` has no thread option: it runs threads=1 and threads=2 itself (and a 2-thread core check), so it
  # gets two CPUs. Pin only when taskset exists and both CPUs are ours.
  PIN=()
  allowed=$(grep Cpus_allowed_list /proc/self/status | cut -f2)
  if command -v taskset >/dev/null && taskset -c "$BENCH_CPUS" true 2>/dev/null; then
    PIN=(taskset -c "$BENCH_CPUS")
  else
    echo "check.sh: cannot pin to CPUs $BENCH_CPUS (allowed: $allowed; taskset $(command -v taskset || echo missing)); running unpinned"
  fi
  JOPTS=("${JVM_FLAGS[@]}" -XX:+UseParallelGC)
  # `-jar dmerl.jar` needs java.desktop (picocli reflects over PlotCommand); without it call Benchmarks.run directly
  # through BenchMain (what BenchCommand.call() does).
  if "$JAVA" --list-modules 2>/dev/null | grep -q '^java.desktop@'; then
    BENCH=("$JAVA" "${JOPTS[@]}" -jar "$PKG/dmerl.jar" bench)
    HELP=(--help); ARGS=(--only "$BENCH_ONLY")
  else
    BENCH=("$JAVA" "${JOPTS[@]}" -cp "$PKG/dmerl.jar:$PKG/launcher" BenchMain)
    HELP=(--help); ARGS=(--only "$BENCH_ONLY")
  fi
  if [ -n "${BENCH_HELP_ONLY:-}" ]; then ARGS=("${HELP[@]}"); fi
  echo "+ ${PIN[*]} ${BENCH[*]} ${ARGS[*]}" | tee "$OUT/bench.txt"
  t0=$(date +%s)
  run_limited "$BENCH_TIMEOUT" "${PIN[@]}" "${BENCH[@]}" "${ARGS[@]}" 2>&1 | grep --line-buffered -v 'WARNING: Using incubator modules' \
    | tee -a "$OUT/bench.txt"
  rc=${PIPESTATUS[0]}
  note "bench: rc=$rc ($(( $(date +%s) - t0 )) s) pinned='${PIN[*]}' only=$BENCH_ONLY"
  [ "$rc" -eq 0 ] || status=1
fi

echo; echo "==================== RESULTS ($OUT) ===================="
[ -f "$OUT/tests.txt" ] && sed -n '/=== SUMMARY ===/,/^wall time/p' "$OUT/tests.txt" | grep -E 'tests (found|successful|failed|aborted|skipped)|wall time'
[ -f "$OUT/tests.txt" ] && grep -E '^\[(FAIL |ABORT)\]' "$OUT/tests.txt" | cut -c1-200
[ -f "$OUT/bench.txt" ] && grep -vE '^\+ ' "$OUT/bench.txt"
note "check.sh: overall status=$status"
exit $status
