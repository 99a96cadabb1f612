#!/usr/bin/env bash
# (Re)fills .devpkg (git-ignored) from the current build outputs, so the folder can be copied to a bare x86-64 Linux box without Java
# and run there with `bash .devpkg/check.sh`. Run from anywhere on the dev machine after `mvn package` / `bin/test`.
#
#   tools/devcheck/build.sh              copy jar, classes, test classes, JUnit jars; compile launcher; jlink jre if missing
#   JRE_REBUILD=1 tools/devcheck/build.sh   also rebuild .devpkg/jre
#   FULL=1 JRE_REBUILD=1 bash ...      jre with java.desktop/java.sql too (needed for `-jar dmerl.jar ...`; ~+20 MiB)
#   NO_MVN=1 bash ...                  skip the offline `mvn dependency:build-classpath` (use the pinned JUnit list)
#   NO_STRIP=1 bash ...                keep the symbol table of libjvm.so (~5 MiB more)
set -euo pipefail
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SRC/../.." && pwd)"
PKG="$ROOT/.devpkg"
mkdir -p "$PKG/launcher"
cp "$SRC/check.sh" "$SRC/README.txt" "$PKG/"
cp "$SRC/RunTests.java" "$SRC/BenchMain.java" "$PKG/launcher/"
JDK="${DMERL_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
M2="${M2_REPO:-$HOME/.m2/repository}"
[ -x "$JDK/bin/jlink" ] || { echo "build.sh: no JDK 25 at $JDK (set DMERL_JAVA_HOME)" >&2; exit 1; }
cd "$ROOT"

# ---- inputs present? ----------------------------------------------------------------------------------------------
JAR="$ROOT/dmerl-cli/target/dmerl.jar"
for p in "$JAR" dmerl-tensor/target/classes dmerl-tensor/target/test-classes dmerl-nn/target/classes dmerl-nn/target/test-classes; do
  [ -e "$p" ] || { echo "build.sh: missing $p - build first (bin/test, or mvn -o package -DskipTests plus test-compile)" >&2; exit 1; }
done
# stale-build warnings (not fatal)
for m in dmerl-tensor dmerl-nn dmerl-env dmerl-rl dmerl-cli; do
  s=$(find "$m/src/main" "$m/pom.xml" -newer "$JAR" -type f -print -quit 2>/dev/null || true)
  [ -z "$s" ] || echo "build.sh: WARNING: $s is newer than dmerl.jar - the jar may be stale (rebuild it)" >&2
done
for m in dmerl-tensor dmerl-nn; do
  newest=$(find "$m/target/test-classes" -name '*.class' -printf '%T@ %p\n' 2>/dev/null | sort -n | tail -1 | cut -d' ' -f2-)
  s=$(find "$m/src/test" -type f -name '*.java' -newer "${newest:-$m/target/test-classes}" -print -quit 2>/dev/null || true)
  [ -z "$s" ] || echo "build.sh: WARNING: $s is newer than every class in $m/target/test-classes - run test-compile" >&2
  s=$(find "$m/target/classes" -newer "$JAR" -name '*.class' -print -quit 2>/dev/null || true)
  [ -z "$s" ] || echo "build.sh: WARNING: $s is newer than dmerl.jar - tests and bench would run different code" >&2
done

# ---- JUnit jars: exactly what the build resolves --------------------------------------------------------------------
CPFILE="$(mktemp)"; trap 'rm -f "$CPFILE"' EXIT
JARS=()
JUNIT_FROM="pinned list (junit.version in pom.xml)"
if [ -z "${NO_MVN:-}" ] && command -v mvn >/dev/null; then
  if (cd dmerl-tensor && JAVA_HOME="$JDK" MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" \
        mvn -o -q -B -Dstyle.color=never dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$CPFILE" >/dev/null 2>&1) \
     && [ -s "$CPFILE" ]; then
    IFS=: read -r -a JARS < "$CPFILE" || true
    JUNIT_FROM="mvn -o dependency:build-classpath (dmerl-tensor, test scope)"
  else
    echo "build.sh: offline mvn dependency:build-classpath failed; using the pinned JUnit list" >&2
  fi
fi
if [ ${#JARS[@]} -eq 0 ]; then
  JV=$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml | head -1)   # 5.x.y
  PV="1.${JV#5.}"                                                                       # 1.x.y
  JARS=("$M2/org/junit/jupiter/junit-jupiter/$JV/junit-jupiter-$JV.jar"
        "$M2/org/junit/jupiter/junit-jupiter-api/$JV/junit-jupiter-api-$JV.jar"
        "$M2/org/junit/jupiter/junit-jupiter-params/$JV/junit-jupiter-params-$JV.jar"
        "$M2/org/junit/jupiter/junit-jupiter-engine/$JV/junit-jupiter-engine-$JV.jar"
        "$M2/org/junit/platform/junit-platform-commons/$PV/junit-platform-commons-$PV.jar"
        "$M2/org/junit/platform/junit-platform-engine/$PV/junit-platform-engine-$PV.jar"
        "$M2/org/opentest4j/opentest4j/1.3.0/opentest4j-1.3.0.jar"
        "$M2/org/apiguardian/apiguardian-api/1.1.2/apiguardian-api-1.1.2.jar")
fi
# the launcher is not a project dependency (surefire brings its own): same version as junit-platform-engine
ENGINE=$(printf '%s\n' "${JARS[@]}" | grep '/junit-platform-engine-' | head -1)
PV=$(basename "$ENGINE" .jar); PV=${PV#junit-platform-engine-}
JARS+=("$M2/org/junit/platform/junit-platform-launcher/$PV/junit-platform-launcher-$PV.jar")
rm -rf "$PKG/lib"; mkdir -p "$PKG/lib"
for j in "${JARS[@]}"; do
  [ -f "$j" ] || { echo "build.sh: missing $j" >&2; exit 1; }
  cp "$j" "$PKG/lib/"
done

# ---- project outputs -------------------------------------------------------------------------------------------------
cp "$JAR" "$PKG/dmerl.jar"
rm -rf "$PKG/classes" "$PKG/test-classes"
mkdir -p "$PKG/classes" "$PKG/test-classes"
for m in tensor nn; do
  cp -r "dmerl-$m/target/classes" "$PKG/classes/$m"
  cp -r "dmerl-$m/target/test-classes" "$PKG/test-classes/$m"
done

# ---- launcher classes ------------------------------------------------------------------------------------------------
rm -f "$PKG"/launcher/*.class
"$JDK/bin/javac" --release 25 -nowarn -Xlint:-incubating --add-modules jdk.incubator.vector -d "$PKG/launcher" \
  -cp "$PKG/lib/*:$PKG/dmerl.jar" "$PKG/launcher/RunTests.java" "$PKG/launcher/BenchMain.java" 2>&1 \
  | grep -v 'incubator' || true
[ -f "$PKG/launcher/RunTests.class" ] && [ -f "$PKG/launcher/BenchMain.class" ] || { echo "build.sh: launcher compile failed" >&2; exit 1; }

# ---- runtime image ---------------------------------------------------------------------------------------------------
# Needed (jdeps): tensor/nn/rl + JUnit -> java.base, java.logging; bench -> + jdk.incubator.vector;
# dmerl-env MujocoBench -> java.management + jdk.management (com.sun.management). java.desktop (+java.xml,
# java.datatransfer) and java.sql are only for the plot command / JFreeChart, but picocli reflects over every
# subcommand when `dmerl` starts, so `-jar dmerl.jar <anything>` needs them (FULL=1).
MODULES="java.base,java.logging,java.management,jdk.management,jdk.unsupported,jdk.incubator.vector"
[ -z "${FULL:-}" ] || MODULES="$MODULES,java.desktop,java.sql,java.xml"
if [ -n "${JRE_REBUILD:-}" ] || [ ! -x "$PKG/jre/bin/java" ]; then
  rm -rf "$PKG/jre"
  "$JDK/bin/jlink" --add-modules "$MODULES" --strip-debug --no-header-files --no-man-pages --compress=zip-6 \
    --output "$PKG/jre" 2>&1 | grep -v 'Using incubator modules' || true
  [ -x "$PKG/jre/bin/java" ] || { echo "build.sh: jlink failed" >&2; exit 1; }
  # The JDK's libjvm.so carries a full symbol table (~5 MiB); only hs_err native frame names use it.
  if [ -z "${NO_STRIP:-}" ] && command -v strip >/dev/null; then
    strip --strip-unneeded "$PKG/jre/lib/server/libjvm.so"
  fi
fi

# ---- smoke + manifest ------------------------------------------------------------------------------------------------
J="$PKG/jre/bin/java"
"$J" --add-modules jdk.incubator.vector -cp "$PKG/dmerl.jar:$PKG/launcher" BenchMain --help >/dev/null 2>&1 \
  || { echo "build.sh: smoke test (BenchMain --help) failed" >&2; exit 1; }
{
  echo "built $(date -u +%FT%TZ) from $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo '+dirty')"
  echo "jre modules: $("$J" --list-modules 2>/dev/null | sed 's/@.*//' | paste -sd, -)"
  echo "dmerl.jar $(date -u -r "$JAR" +%FT%TZ) sha256 $(sha256sum "$PKG/dmerl.jar" | cut -c1-16)"
  echo "junit jars from: $JUNIT_FROM"
  (cd "$PKG" && ls lib)
} > "$PKG/MANIFEST.txt"
cat "$PKG/MANIFEST.txt"
du -sh "$PKG"
