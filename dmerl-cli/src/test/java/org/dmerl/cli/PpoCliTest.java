package org.dmerl.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.dmerl.algo.Config;
import org.dmerl.algo.TrainedPolicy;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.TensorArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code dmerl train --algo ppo}: the run directory it writes, its checkpoints and {@code --resume}. */
class PpoCliTest {

    /** The Pendulum preset runs 4 copies × 1024 steps; one copy keeps the run (and its episodes) small. */
    private static final String[] SMALL = {"--set", "num_envs=1", "--set", "rollout_steps=256", "--set", "num_minibatches=4",
            "--set", "update_epochs=2", "--set", "eval_every=256", "--set", "eval_episodes=1", "--set", "hidden=16,16"};

    private static String[] concat(String[] x, String... y) {
        String[] out = new String[x.length + y.length];
        System.arraycopy(x, 0, out, 0, x.length);
        System.arraycopy(y, 0, out, x.length, y.length);
        return out;
    }

    private static ResumeTest.Outcome train(Path out) {
        return train("ppo", out);
    }

    /** diffppo with a two-step chain and a small denoiser, to keep the run short. */
    private static ResumeTest.Outcome train(String algo, Path out) {
        String[] args = concat(new String[] {"train", "--algo", algo, "--env", "Pendulum-v1", "--steps", "512",
                "--seed", "2", "--out", out.toString()}, SMALL);
        if (algo.equals("diffppo")) {
            args = concat(args, "--set", "diffusion_steps=2", "--set", "denoiser_hidden=16,16", "--set", "time_embedding=4");
        }
        return ResumeTest.run(args);
    }

    /** One line on the error writer, naming the problem, exit code 2, no stack trace anywhere. */
    private static void assertOneClearLine(ResumeTest.Outcome o, String expected) {
        assertEquals(2, o.code(), o.all());
        List<String> lines = o.err().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), o.all());
        assertTrue(lines.get(0).startsWith("dmerl: error: ") && lines.get(0).contains(expected), o.all());
        assertFalse(o.all().contains("\tat "), "no stack trace expected: " + o.all());
    }

    @Test
    void trainPpoWritesTheRunDirectory(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        ResumeTest.Outcome o = train(out);
        assertEquals(0, o.code(), o.all());
        assertTrue(o.out().contains("training ppo on Pendulum-v1 for 512 steps"), o.all());
        for (String f : List.of("config.yaml", "progress.csv", "eval.csv", "final.json", TrainedPolicy.FILE)) {
            assertTrue(Files.exists(out.resolve(f)), f + " missing");
        }
        List<String> eval = Files.readAllLines(out.resolve("eval.csv"));
        assertEquals(RunWriter.EVAL_HEADER, eval.get(0));
        assertEquals(3, eval.size(), "header + evaluations at 256 and 512: " + eval);
        assertTrue(eval.get(1).startsWith("256,") && eval.get(2).startsWith("512,"), eval.toString());

        List<String> progress = Files.readAllLines(out.resolve("progress.csv"));
        assertEquals(RunWriter.PROGRESS_HEADER, progress.get(0));
        assertEquals(3, progress.size(), "two 200-step episodes: " + progress);
        // the second episode (env step 400) ends after the first update: finite value and surrogate losses
        String[] second = progress.get(2).split(",");
        assertEquals("400", second[0]);
        assertTrue(Double.isFinite(Double.parseDouble(second[4])) && Double.isFinite(Double.parseDouble(second[5])),
                progress.get(2));

        String json = Files.readString(out.resolve("final.json"));
        for (String key : List.of("\"algo\": \"ppo\"", "\"env\": \"Pendulum-v1\"", "\"seed\": 2", "\"env_steps\": 512",
                "\"agent_steps\": 512", "\"grad_steps\": 16", "\"eval_return_mean\"")) {
            assertTrue(json.contains(key), key + " missing in " + json);
        }
        // the PPO presets (algo-ppo, ppo-Pendulum-v1) apply under the user's settings
        String yaml = Files.readString(out.resolve("config.yaml"));
        for (String line : List.of("algo: ppo", "hidden: \"16,16\"", "activation: tanh", "normalize_obs: true",
                "normalize_reward: true", "rollout_steps: 256", "num_minibatches: 4", "num_envs: 1", "gamma: 0.9")) {
            assertTrue(yaml.contains(line), line + " missing in\n" + yaml);
        }
        // the saved policy loads and acts inside Pendulum's torque box
        TrainedPolicy p = TrainedPolicy.load(out);
        Rng rng = new Rng(1);
        for (int i = 0; i < 20; i++) {
            double theta = rng.uniform(-Math.PI, Math.PI);
            double a = p.act(new double[] {Math.cos(theta), Math.sin(theta), rng.uniform(-8, 8)}, rng)[0];
            assertTrue(a >= -2 && a <= 2, "action " + a);
        }
    }

    private static String evalRowsUpTo(Path run, long step) throws Exception {
        return String.join("\n", Files.readAllLines(run.resolve("eval.csv")).stream()
                .filter(l -> !Character.isDigit(l.charAt(0)) || Long.parseLong(l.split(",")[0]) <= step).toList());
    }

    private static void copyRun(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) Files.copy(f, to.resolve(f.getFileName()));
        }
    }

    /**
     * A finished run resumed at its own length changes nothing (the learner state is restored bit for bit); resumed
     * with more steps it continues from its last rollout, keeps the rows it had, and the continuation is deterministic.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ppo", "diffppo"})
    void resumeRestoresTheLearnerAndContinuesDeterministically(String algo, @TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        ResumeTest.Outcome first = train(algo, out);
        assertEquals(0, first.code(), first.all());
        byte[] policy = Files.readAllBytes(out.resolve(TrainedPolicy.FILE));
        assertTrue(Files.exists(out.resolve("checkpoint.ckpt")), "on-policy runs checkpoint");
        assertEquals("dmerl-onpolicy-checkpoint", TensorArchive.read(out.resolve("checkpoint.ckpt")).getString("kind"));

        ResumeTest.Outcome same = ResumeTest.run("train", "--resume", out.toString());
        assertEquals(0, same.code(), same.all());
        assertTrue(same.out().contains("resuming " + algo + " on Pendulum-v1 at env step 512 of 512"), same.all());
        assertArrayEquals(policy, Files.readAllBytes(out.resolve(TrainedPolicy.FILE)), "restored policy and statistics");

        Path twin = dir.resolve("twin");
        copyRun(out, twin);
        String before = evalRowsUpTo(out, 512);
        for (Path run : List.of(out, twin)) {
            ResumeTest.Outcome more = ResumeTest.run("train", "--resume", run.toString(), "--steps", "1024");
            assertEquals(0, more.code(), more.all());
        }
        List<String> eval = Files.readAllLines(out.resolve("eval.csv"));
        assertEquals(5, eval.size(), "header + evaluations at 256, 512, 768, 1024: " + eval);
        assertEquals(before, evalRowsUpTo(out, 512), "rows before the resume are kept");
        assertEquals(Files.readString(out.resolve("eval.csv")), Files.readString(twin.resolve("eval.csv")));
        assertArrayEquals(Files.readAllBytes(out.resolve(TrainedPolicy.FILE)), Files.readAllBytes(twin.resolve(TrainedPolicy.FILE)));
        String json = Files.readString(out.resolve("final.json"));
        assertTrue(json.contains("\"env_steps\": 1024"), json);
    }

    /** A run stopped after a mid-run checkpoint resumes from it (the latest file lost: the previous one is used). */
    @Test
    void stoppedRunResumesFromItsLastRolloutCheckpoint(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        ResumeTest.Outcome o = ResumeTest.run(concat(new String[] {"train", "--algo", "ppo", "--env", "Pendulum-v1",
                "--steps", "1024", "--seed", "2", "--out", out.toString(), "--set", "checkpoint_every=512"}, SMALL));
        assertEquals(0, o.code(), o.all());
        // as if the run had died between its checkpoint at 512 and its end
        Files.delete(out.resolve("final.json"));
        Files.delete(out.resolve("checkpoint.ckpt"));
        assertEquals(512, TensorArchive.read(out.resolve("checkpoint.prev.ckpt")).getLongs("counters")[0]);
        String before = evalRowsUpTo(out, 512);
        ResumeTest.Outcome r = ResumeTest.run("train", "--resume", out.toString());
        assertEquals(0, r.code(), r.all());
        assertTrue(r.out().contains("at env step 512 of 1024"), r.all());
        assertEquals(before, evalRowsUpTo(out, 512));
        assertEquals(5, Files.readAllLines(out.resolve("eval.csv")).size());
        assertTrue(Files.readString(out.resolve("final.json")).contains("\"env_steps\": 1024"));
    }

    @Test
    void resumeOfAnOnPolicyRunTakesNoConfigOptionsAndRefusesOtherCheckpoints(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        assertEquals(0, train(out).code());
        // --resume takes the run's own config: --algo is refused
        assertOneClearLine(ResumeTest.run("train", "--algo", "ppo", "--resume", out.toString()), "drop --algo");
        // a checkpoint whose config says PPO but which an off-policy learner wrote
        Path fake = dir.resolve("fake");
        Files.createDirectories(fake);
        Config cfg = new Config().set("algo", "ppo").set("steps", 512).set("hidden", "16,16");
        TensorArchive a = new TensorArchive();
        a.putString("kind", "dmerl-offpolicy-checkpoint");
        cfg.writeTo(a);
        a.putLongs("counters", new long[] {256, 256, 8});
        a.write(fake.resolve("checkpoint.ckpt"));
        ResumeTest.Outcome o = ResumeTest.run("train", "--resume", fake.toString());
        assertOneClearLine(o, "not an on-policy checkpoint");
        assertFalse(Files.exists(fake.resolve("final.json")));
    }
}
