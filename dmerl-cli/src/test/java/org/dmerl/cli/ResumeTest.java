package org.dmerl.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.dmerl.env.BoxSpace;
import org.dmerl.env.Env;
import org.dmerl.env.EnvRegistry;
import org.dmerl.tensor.TensorArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Checkpoints and {@code train --resume}: a run killed with SIGKILL and resumed writes exactly the files of the
 * uninterrupted run; damaged checkpoints fall back or fail with one clear line; saved policies serve sample and eval.
 */
class ResumeTest {

    /** {@code out}: picocli's writer and System.out; {@code err}: the CLI's error writer; {@code sysErr}: System.err. */
    record Outcome(int code, String out, String err, String sysErr) {
        String all() {
            return "exit " + code + "\n--- out:\n" + out + "\n--- err:\n" + err + "\n--- System.err:\n" + sysErr;
        }
    }

    /** Runs the CLI in-process, capturing System.out and System.err too (the commands print there directly). */
    static synchronized Outcome run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        ByteArrayOutputStream sysOut = new ByteArrayOutputStream(), sysErr = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        try {
            System.setOut(new PrintStream(sysOut, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(sysErr, true, StandardCharsets.UTF_8));
            int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
            return new Outcome(code, out + sysOut.toString(StandardCharsets.UTF_8), err.toString(),
                    sysErr.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static String[] args(List<String> head, String... tail) {
        List<String> all = new ArrayList<>(head);
        all.addAll(List.of(tail));
        return all.toArray(String[]::new);
    }

    private static final List<String> SMALL = List.of("--env", "Pendulum-v1", "--seed", "7",
            "--set", "learning_starts=200", "--set", "eval_every=200", "--set", "eval_episodes=2",
            "--set", "hidden=32,32", "--set", "batch_size=32", "--set", "checkpoint_every=400");

    private static List<String> killCommand(String algo) {
        List<String> a = new ArrayList<>(List.of("train", "--algo", algo));
        a.addAll(SMALL);
        // Long enough that the child is still training well after its first checkpoint (sac ~5 s, diffsac ~6 s alone).
        if (algo.equals("sac")) {
            a.addAll(List.of("--steps", "3000"));
        } else {
            a.addAll(List.of("--steps", "2000", "--set", "diffusion_steps=4", "--set", "denoiser_hidden=32,32"));
        }
        return a;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // a. SIGKILL mid-training, then resume: identical files

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"sac", "diffsac"})
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void killedRunResumesToTheUninterruptedResult(String algo, @TempDir Path tmp) throws Exception {
        List<String> cmd = killCommand(algo);
        Path a = tmp.resolve("uninterrupted"), b = tmp.resolve("killed");
        long t0 = System.nanoTime();
        Outcome ref = run(args(cmd, "--out", a.toString()));
        assertEquals(0, ref.code(), ref.all());
        long t1 = System.nanoTime();

        long[] killInfo = trainInChildAndKill(cmd, b, tmp.resolve("child.log"));
        assertFalse(Files.exists(b.resolve("final.json")), "the child must have been killed before finishing");
        long t2 = System.nanoTime();

        Outcome resumed = run("train", "--resume", b.toString());
        assertEquals(0, resumed.code(), resumed.all());
        long resumedAt = TensorArchive.read(b.resolve("checkpoint.ckpt")).getLongs("counters")[0];
        assertEquals(lastStep(a), resumedAt, "the final checkpoint is at the end of the run");
        assertTrue(resumed.out().contains("resuming " + algo + " on Pendulum-v1 at env step "), resumed.all());
        long t3 = System.nanoTime();

        assertEquals(Files.readString(a.resolve("eval.csv")), Files.readString(b.resolve("eval.csv")), "eval.csv");
        assertEquals(withoutTimings(a.resolve("progress.csv")), withoutTimings(b.resolve("progress.csv")), "progress.csv");
        assertArrayEquals(Files.readAllBytes(a.resolve("policy.ckpt")), Files.readAllBytes(b.resolve("policy.ckpt")),
                "the final policy is bit-identical");
        assertEquals(counters(a), counters(b), "final.json step counters");
        System.out.printf("[ResumeTest] %s: killed at eval step %d (first checkpoint at %d); reference %.1f s, child %.1f s,"
                + " resume %.1f s%n", algo, killInfo[1], killInfo[0], (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9);
    }

    /**
     * Starts {@code dmerl} in a child JVM and SIGKILLs it as soon as it has written its first checkpoint and an
     * evaluation after it. Returns {first checkpoint step, last eval step seen before the kill}.
     */
    private static long[] trainInChildAndKill(List<String> cmd, Path out, Path log) throws Exception {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xss4m", "-cp", System.getProperty("java.class.path"),
                "org.dmerl.cli.Main"));
        command.addAll(cmd);
        command.addAll(List.of("--out", out.toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            long firstCheckpoint = -1;
            while (true) {
                if (firstCheckpoint < 0 && Files.exists(out.resolve("checkpoint.ckpt"))) {
                    try {
                        firstCheckpoint = TensorArchive.read(out.resolve("checkpoint.ckpt")).getLongs("counters")[0];
                    } catch (IllegalArgumentException e) {
                        // renamed away by the next checkpoint just now: read it on the next poll
                    }
                }
                long evalStep = firstCheckpoint < 0 ? -1 : lastStep(out);
                if (evalStep > firstCheckpoint) {
                    p.destroyForcibly();  // SIGKILL on Linux
                    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "killed child did not exit");
                    if (Files.exists(out.resolve("final.json"))) {
                        fail("the child finished its run before the kill landed; raise --steps in killCommand. Log:\n"
                                + Files.readString(log));
                    }
                    assertNotEquals(0, p.exitValue(), "a killed child has a non-zero exit status");
                    return new long[] {firstCheckpoint, evalStep};
                }
                if (!p.isAlive()) {
                    fail("the child exited (status " + p.exitValue() + ") before it could be killed mid-training; "
                            + "raise --steps or lower checkpoint_every in killCommand. Log:\n" + Files.readString(log));
                }
                if (System.nanoTime() > deadline) fail("no checkpoint and evaluation after 180 s. Log:\n" + Files.readString(log));
                Thread.sleep(5);
            }
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    /** The env step of the last complete row of eval.csv (-1 when none). */
    private static long lastStep(Path dir) throws Exception {
        Path f = dir.resolve("eval.csv");
        if (!Files.exists(f)) return -1;
        long last = -1;
        for (String line : Files.readAllLines(f)) {
            String[] cols = line.split(",");
            if (cols.length != 4) continue;  // header reads as non-numeric below; a half-written row is skipped
            try {
                last = Math.max(last, Long.parseLong(cols[0]));
            } catch (NumberFormatException e) {
                // header
            }
        }
        return last;
    }

    /** progress.csv without wall_seconds (2nd column) and sps (last column). */
    private static List<String> withoutTimings(Path progress) throws Exception {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(progress)) {
            String[] c = line.split(",", -1);
            List<String> kept = new ArrayList<>(Arrays.asList(c));
            kept.remove(c.length - 1);
            kept.remove(1);
            out.add(String.join(",", kept));
        }
        return out;
    }

    private static List<String> counters(Path dir) throws Exception {
        return Files.readAllLines(dir.resolve("final.json")).stream()
                .filter(l -> l.contains("\"env_steps\"") || l.contains("\"agent_steps\"") || l.contains("\"grad_steps\"")
                        || l.contains("\"eval_return_mean\"") || l.contains("\"eval_return_std\""))
                .map(String::trim).toList();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // b. damaged or missing checkpoints

    private static final List<String> TINY = List.of("train", "--algo", "sac", "--env", "Pendulum-v1", "--seed", "3",
            "--set", "learning_starts=200", "--set", "eval_every=200", "--set", "eval_episodes=1",
            "--set", "hidden=16,16", "--set", "batch_size=16", "--set", "checkpoint_every=200");

    private static void damage(Path file) throws Exception {
        byte[] b = Files.readAllBytes(file);
        // overwrite (not XOR) so that damaging an already damaged file keeps it damaged
        Arrays.fill(b, b.length / 2, b.length / 2 + 16, (byte) 0x5A);
        Files.write(file, b);
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void damagedOrMissingLatestCheckpointFallsBackToThePreviousOne(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("run");
        Outcome first = run(args(TINY, "--steps", "1000", "--out", dir.toString()));
        assertEquals(0, first.code(), first.all());
        Path latest = dir.resolve("checkpoint.ckpt"), previous = dir.resolve("checkpoint.prev.ckpt");
        assertEquals(1000, TensorArchive.read(latest).getLongs("counters")[0]);
        assertEquals(800, TensorArchive.read(previous).getLongs("counters")[0]);
        String eval = Files.readString(dir.resolve("eval.csv"));
        List<String> progress = withoutTimings(dir.resolve("progress.csv"));
        byte[] policy = Files.readAllBytes(dir.resolve("policy.ckpt"));

        // Killed between renaming the latest checkpoint away and writing the new one: only the previous is there.
        Files.delete(latest);
        Outcome r = run("train", "--resume", dir.toString());
        assertEquals(0, r.code(), r.all());
        assertTrue(r.out().contains("at env step 800 of 1000"), r.all());
        assertTrue(r.sysErr().contains("warning") && r.sysErr().contains("checkpoint.prev.ckpt"), r.all());
        assertEquals(eval, Files.readString(dir.resolve("eval.csv")));
        assertEquals(progress, withoutTimings(dir.resolve("progress.csv")));
        assertArrayEquals(policy, Files.readAllBytes(dir.resolve("policy.ckpt")));

        // A corrupted latest checkpoint: resume from the previous one, warning on stderr, same result.
        damage(latest);
        r = run("train", "--resume", dir.toString());
        assertEquals(0, r.code(), r.all());
        assertTrue(r.out().contains("at env step 800 of 1000"), r.all());
        assertTrue(r.sysErr().contains("warning") && r.sysErr().contains("corrupted")
                && r.sysErr().contains("checkpoint.ckpt"), r.all());
        assertEquals("", r.err(), r.all());
        assertFalse(r.sysErr().contains("\tat "), r.all());
        assertEquals(eval, Files.readString(dir.resolve("eval.csv")));
        assertEquals(progress, withoutTimings(dir.resolve("progress.csv")));
        assertArrayEquals(policy, Files.readAllBytes(dir.resolve("policy.ckpt")));
        assertEquals(1000, TensorArchive.read(latest).getLongs("counters")[0], "a fresh latest checkpoint was written");

        // Both corrupted: exit 2, one clear line, nothing touched.
        damage(latest);
        damage(previous);
        r = run("train", "--resume", dir.toString());
        assertEquals(2, r.code(), r.all());
        assertEquals(1, r.err().lines().count(), r.all());
        assertTrue(r.err().startsWith("dmerl: error: ") && r.err().contains("corrupted"), r.all());
        assertFalse(r.err().contains("\tat ") || r.sysErr().contains("\tat ") || r.sysErr().contains("Exception"), r.all());
        assertEquals(eval, Files.readString(dir.resolve("eval.csv")), "a failed resume leaves the run files alone");
    }

    @Test
    void resumeWithoutCheckpointIsAClearError(@TempDir Path tmp) throws Exception {
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        for (Path dir : List.of(empty, tmp.resolve("does-not-exist"))) {
            Outcome r = run("train", "--resume", dir.toString());
            assertEquals(2, r.code(), r.all());
            assertEquals(1, r.err().lines().count(), r.all());
            assertTrue(r.err().contains("no checkpoint") && r.err().contains(dir.toString()), r.all());
            assertFalse(r.err().contains("\tat ") || r.sysErr().contains("\tat "), r.all());
        }
        // A foreign file under the checkpoint's name, nothing to fall back to.
        Files.writeString(empty.resolve("checkpoint.ckpt"), "not a checkpoint\n");
        Outcome r = run("train", "--resume", empty.toString());
        assertEquals(2, r.code(), r.all());
        assertTrue(r.err().contains("not a dmerl archive"), r.all());
    }

    // ---------------------------------------------------------------------------------------------------------------
    // c. --resume takes the run's own config

    @ParameterizedTest
    @ValueSource(strings = {"--algo sac", "--set batch_size=8", "--env Pendulum-v1", "--out elsewhere",
            "--config some.yaml", "--algo diffsac --set hidden=8,8"})
    void resumeRejectsConfigOptions(String extra, @TempDir Path tmp) {
        List<String> a = new ArrayList<>(List.of("train", "--resume", tmp.toString()));
        a.addAll(List.of(extra.split(" ")));
        Outcome r = run(a.toArray(String[]::new));
        assertEquals(2, r.code(), r.all());
        assertEquals(1, r.err().lines().count(), r.all());
        assertTrue(r.err().contains("--resume") && r.err().contains(extra.split(" ")[0]), r.all());
        assertFalse(r.err().contains("\tat "), r.all());
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void resumeWithMoreStepsExtendsAFinishedRunExactly(@TempDir Path tmp) throws Exception {
        Path a = tmp.resolve("long"), b = tmp.resolve("short");
        assertEquals(0, run(args(TINY, "--steps", "1000", "--out", a.toString())).code());
        Outcome first = run(args(TINY, "--steps", "600", "--out", b.toString()));
        assertEquals(0, first.code(), first.all());
        Outcome r = run("train", "--resume", b.toString(), "--steps", "1000");
        assertEquals(0, r.code(), r.all());
        assertTrue(r.out().contains("at env step 600 of 1000"), r.all());
        assertEquals(Files.readString(a.resolve("eval.csv")), Files.readString(b.resolve("eval.csv")));
        assertEquals(withoutTimings(a.resolve("progress.csv")), withoutTimings(b.resolve("progress.csv")));
        assertArrayEquals(Files.readAllBytes(a.resolve("policy.ckpt")), Files.readAllBytes(b.resolve("policy.ckpt")));
    }

    /** With chain_target real_entropy the buffer's chain links are checkpointed too. */
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void resumeWithChainLinksIsExact(@TempDir Path tmp) throws Exception {
        List<String> chain = new ArrayList<>(TINY);
        chain.set(chain.indexOf("sac"), "diffsac");
        chain.addAll(List.of("--set", "denoiser_hidden=16,16", "--set", "diffusion_steps=3",
                "--set", "chain_target=real_entropy"));
        assertStopAndResumeMatchesOneRun(chain, 400, 600, tmp);
    }

    /** A run stopped after {@code stopAt} steps and resumed to {@code total} ends as one run of {@code total} does. */
    private static void assertStopAndResumeMatchesOneRun(List<String> cmd, int stopAt, int total, Path tmp)
            throws Exception {
        Path a = tmp.resolve("long"), b = tmp.resolve("short");
        assertEquals(0, run(args(cmd, "--steps", String.valueOf(total), "--out", a.toString())).code());
        assertEquals(0, run(args(cmd, "--steps", String.valueOf(stopAt), "--out", b.toString())).code());
        Outcome r = run("train", "--resume", b.toString(), "--steps", String.valueOf(total));
        assertEquals(0, r.code(), r.all());
        assertEquals(Files.readString(a.resolve("eval.csv")), Files.readString(b.resolve("eval.csv")));
        assertArrayEquals(Files.readAllBytes(a.resolve("policy.ckpt")), Files.readAllBytes(b.resolve("policy.ckpt")));
    }

    /** The KL trust region's state (π_old, λ, its Adam, the refresh counter) and the Fisher average are checkpointed. */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void resumeWithTrustRegionIsExact(@TempDir Path tmp) throws Exception {
        List<String> wpo = new ArrayList<>(TINY);
        wpo.set(wpo.indexOf("sac"), "wpo");
        wpo.addAll(List.of("--set", "kl_bound=0.001", "--set", "kl_refresh=7", "--set", "kl_samples=2",
                "--set", "fisher_precondition=true"));
        assertStopAndResumeMatchesOneRun(wpo, 600, 1000, tmp);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // d. a saved policy serves sample and eval

    @ParameterizedTest
    @ValueSource(strings = {"sac", "diffsac"})
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void sampleAndEvalUseTheSavedPolicy(String algo, @TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("run");
        Outcome t = run("train", "--algo", algo, "--env", "Pendulum-v1", "--steps", "400", "--seed", "2",
                "--out", dir.toString(), "--set", "learning_starts=200", "--set", "eval_every=400",
                "--set", "eval_episodes=1", "--set", "hidden=16,16", "--set", "batch_size=16",
                "--set", "diffusion_steps=3", "--set", "denoiser_hidden=16,16");
        assertEquals(0, t.code(), t.all());

        BoxSpace box;
        try (Env env = EnvRegistry.make("Pendulum-v1")) {
            box = env.actionSpace();
        }
        Outcome s = run("sample", "--run", dir.toString(), "--n", "50");
        assertEquals(0, s.code(), s.all());
        List<String> lines = s.out().lines().toList();
        assertEquals(50, lines.size(), s.all());
        java.util.Set<String> distinct = new java.util.HashSet<>();
        for (String line : lines) {
            String[] parts = line.trim().split(" ");
            assertEquals(box.dim(), parts.length, line);
            for (int j = 0; j < parts.length; j++) {
                double v = Double.parseDouble(parts[j]);
                assertTrue(v >= box.low()[j] && v <= box.high()[j], "action " + v + " outside " + box);
            }
            distinct.add(line);
        }
        assertTrue(distinct.size() > 1, "stochastic draws differ: " + lines);
        assertEquals(s.out(), run("sample", "--run", dir.toString(), "--n", "50").out(), "same seed, same draws");

        Outcome e = run("eval", "--run", dir.toString(), "--episodes", "2");
        assertEquals(0, e.code(), e.all());
        assertEquals(2, e.out().lines().filter(l -> l.startsWith("episode ")).count(), e.all());
        Pattern mean = Pattern.compile("mean return -?\\d+\\.\\d+ ± \\d+\\.\\d+ over 2 episodes");
        assertTrue(e.out().lines().anyMatch(l -> mean.matcher(l).matches()), e.all());
    }

    @Test
    void sampleAndEvalWithoutPolicyAreClearErrors(@TempDir Path tmp) {
        for (String[] a : List.of(new String[] {"sample", "--run", tmp.toString(), "--n", "5"},
                new String[] {"eval", "--run", tmp.toString(), "--episodes", "1"})) {
            Outcome r = run(a);
            assertEquals(2, r.code(), r.all());
            assertTrue(r.err().contains("no saved policy"), r.all());
        }
    }
}
