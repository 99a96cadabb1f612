# Sourced by the scripts in bin/: finds a JDK 25 and exports JAVA_HOME, or fails with a clear message.

# The JVM flags every dmerl JVM runs with (pom.xml's jvm.flags says the same for the tests). The CompileCommand keeps
# the elementwise vector kernels out of their callers' compilations: inlined into Graph's large op switch, C2 sometimes
# left their vector code in its allocating fallback form for the rest of the run (docs/results.md, "Speed").
# The loop flags are G1's defaults; the Parallel and Serial collectors turn loop strip mining off, and the GEMM kernels
# then run 2.4 times slower (37 against 88 GFLOP/s, docs/results.md, "Loop strip mining").
# Objects aligned to 64 bytes let the products' scratch panels start on a cache line (Gemm.LINE_SKEW): about 8 % on
# the 6×2 kernel on AVX-512 (docs/results.md, "Twelfth session").
DMERL_JVM_FLAGS=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED
  -XX:CompileCommand=quiet "-XX:CompileCommand=dontinline,org.dmerl.tensor.Elementwise::*"
  -XX:+UseCountedLoopSafepoints -XX:LoopStripMiningIter=1000 -XX:ObjectAlignmentInBytes=64)
find_jdk25() {
  local candidates=("${DMERL_JAVA_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25-jdk-arm64 /usr/lib/jvm/temurin-25* /usr/lib/jvm/java-25*)
  local c v
  for c in "${candidates[@]}"; do
    [ -n "$c" ] && [ -x "$c/bin/java" ] || continue
    v=$("$c/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    if [ "$v" = "25" ]; then export JAVA_HOME="$c"; return 0; fi
  done
  echo "dmerl: JDK 25 not found. Install Temurin 25 (e.g. under /usr/lib/jvm/temurin-25-jdk-amd64) or set DMERL_JAVA_HOME." >&2
  return 1
}

# MuJoCo (Debian's libmujoco-dev) is installed when missing and we are root; otherwise a clear note.
ensure_mujoco() {
  if ldconfig -p 2>/dev/null | grep -q 'libmujoco\.so'; then return 0; fi
  if [ -n "${MUJOCO_LIBRARY:-}" ] && [ -f "$MUJOCO_LIBRARY" ]; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "dmerl: installing libmujoco-dev (MuJoCo) with apt-get..." >&2
    (apt-get install -y -q libmujoco-dev >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q libmujoco-dev >/dev/null 2>&1; }) \
      || echo "dmerl: could not install libmujoco-dev; MuJoCo environments will be unavailable." >&2
  else
    echo "dmerl: MuJoCo library not found; run 'sudo apt-get install libmujoco-dev' or set MUJOCO_LIBRARY. MuJoCo environments are unavailable until then." >&2
  fi
}
