package org.dmerl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MainTest {

    record Outcome(int code, String out, String err) {}

    static Outcome run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Outcome(code, out.toString(), err.toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "train --algo nosuch --steps 10|unknown algorithm 'nosuch'",
            "train --env Nope-v0 --steps 10|unknown environment 'Nope-v0'",
            "train --set no_such_key=1 --steps 10|unknown config key 'no_such_key'",
            "train --steps -5|steps must be positive",
            "train --set batch_size=abc|cannot read 'abc' as int",
            "train --config /nonexistent/cfg.yaml|cannot read config file /nonexistent/cfg.yaml",
            "train --set gamma|--set expects key=value",
    })
    void badInputGivesOneClearLineAndNonZeroExit(String args, String expected) {
        Outcome o = run(args.split(" "));
        assertEquals(2, o.code(), o.err());
        assertTrue(o.err().contains(expected), "stderr was: " + o.err());
        assertFalse(o.err().contains("\tat "), "no stack trace expected: " + o.err());
    }

    @Test
    void malformedYamlIsAClearError(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("bad.yaml");
        Files.writeString(cfg, "steps: [1, 2\n  oops: {");
        Outcome o = run("train", "--config", cfg.toString());
        assertEquals(2, o.code());
        assertTrue(o.err().contains("cannot parse config file"), o.err());
    }

    @Test
    void unknownKeyInYamlNamesTheFileAndTheValidKeys(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("c.yaml");
        Files.writeString(cfg, "stepz: 100\n");
        Outcome o = run("train", "--config", cfg.toString());
        assertEquals(2, o.code());
        assertTrue(o.err().contains("c.yaml") && o.err().contains("unknown config key 'stepz'")
                && o.err().contains("valid keys:"), o.err());
    }

    @Test
    void jsonLogFormatPrintsOneObjectPerEvaluation(@TempDir Path dir) {
        PrintStream saved = System.out;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true));
            assertEquals(0, run("train", "--algo", "sac", "--steps", "200", "--out", dir.resolve("r").toString(),
                    "--set", "learning_starts=100", "--set", "eval_every=100", "--set", "eval_episodes=1",
                    "--set", "hidden=8,8", "--set", "batch_size=8", "--set", "log_format=json").code());
        } finally {
            System.setOut(saved);
        }
        List<String> evals = captured.toString().lines().filter(l -> l.startsWith("{\"event\": \"eval\"")).toList();
        assertEquals(2, evals.size(), captured.toString());
        assertTrue(evals.get(1).matches("\\{\"event\": \"eval\", \"env_step\": 200, .*\"episodes\": 1}"), evals.get(1));
    }

    @Test
    void envCheckJsonHasTheDocumentedKeys() {
        PrintStream saved = System.out;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(captured, true));
            code = run("env-check", "Pendulum-v1", "--json", "--steps", "500", "--episodes", "2").code();
        } finally {
            System.setOut(saved);
        }
        assertEquals(0, code, captured.toString());
        String json = captured.toString().trim();
        for (String key : List.of("\"env\": \"Pendulum-v1\"", "\"obs_dim\": 3", "\"action_dim\": 1",
                "\"random_return_mean\": -", "\"steps_per_second\": ", "\"ok\": true")) {
            assertTrue(json.contains(key), key + " missing in " + json);
        }
        assertEquals(2, run("env-check", "Nope-v0").code());
    }

    @Test
    void envsListsBuiltInEnvironmentsWithDims() {
        Outcome o = run("envs");
        assertEquals(0, o.code());
        // Pendulum-v1: obs 3, action 1
        assertTrue(o.out().lines().anyMatch(l -> l.matches("Pendulum-v1\\s+3\\s+1\\s+200.*")), o.out());
    }

    @Test
    void helpListsCommands() {
        Outcome o = run("--help");
        assertEquals(0, o.code());
        for (String c : List.of("train", "envs", "bench")) assertTrue(o.out().contains(c), o.out());
    }

    @Test
    void shortTrainingRunWritesAllFiles(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("run");
        Outcome o = run("train", "--algo", "sac", "--env", "Pendulum-v1", "--steps", "400", "--seed", "3",
                "--out", out.toString(), "--set", "learning_starts=200", "--set", "eval_every=200",
                "--set", "eval_episodes=1", "--set", "hidden=16,16", "--set", "batch_size=16");
        assertEquals(0, o.code(), o.err());
        for (String f : List.of("config.yaml", "progress.csv", "eval.csv", "final.json")) {
            assertTrue(Files.exists(out.resolve(f)), f);
        }
        List<String> eval = Files.readAllLines(out.resolve("eval.csv"));
        assertEquals(RunWriter.EVAL_HEADER, eval.get(0));
        assertEquals(3, eval.size(), "header + evaluations at 200 and 400: " + eval);
        List<String> progress = Files.readAllLines(out.resolve("progress.csv"));
        assertEquals(3, progress.size(), "two 200-step episodes: " + progress);
        String json = Files.readString(out.resolve("final.json"));
        for (String key : List.of("\"algo\": \"sac\"", "\"env\": \"Pendulum-v1\"", "\"seed\": 3", "\"env_steps\": 400",
                "\"grad_steps\": 201", "\"wall_seconds\"", "\"steps_per_second\"", "\"eval_return_mean\"",
                "\"eval_return_std\"")) {
            assertTrue(json.contains(key), key + " missing in " + json);
        }
        String yaml = Files.readString(out.resolve("config.yaml"));
        assertTrue(yaml.contains("hidden: \"16,16\"") && yaml.contains("learning_starts: 200"), yaml);
    }

    @Test
    void resolvedConfigReplaysTheSameRun(@TempDir Path dir) throws Exception {
        String[] common = {"--set", "learning_starts=100", "--set", "eval_every=150", "--set", "eval_episodes=1",
                "--set", "hidden=8,8", "--set", "batch_size=8"};
        Path a = dir.resolve("a"), b = dir.resolve("b");
        assertEquals(0, run(concat(new String[] {"train", "--algo", "sac", "--steps", "300", "--out", a.toString()}, common)).code());
        assertEquals(0, run("train", "--config", a.resolve("config.yaml").toString(), "--out", b.toString()).code());
        assertEquals(Files.readString(a.resolve("eval.csv")), Files.readString(b.resolve("eval.csv")));
    }

    private static String[] concat(String[] x, String[] y) {
        String[] out = new String[x.length + y.length];
        System.arraycopy(x, 0, out, 0, x.length);
        System.arraycopy(y, 0, out, x.length, y.length);
        return out;
    }
}
