package org.dmerl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SweepTest {

    private static final String[] TINY = {"--steps", "300", "--set", "learning_starts=100", "--set", "eval_every=150",
            "--set", "eval_episodes=1", "--set", "hidden=16,16", "--set", "denoiser_hidden=16,16",
            "--set", "batch_size=16", "--set", "diffusion_steps=2"};

    record Outcome(int code, String out, String err) {}

    static Outcome sweep(Path dir) {
        String[] args = new String[10 + TINY.length];
        String[] head = {"sweep", "--algos", "sac,diffsac", "--envs", "Pendulum-v1", "--seeds", "1,2", "--parallel", "2",
                "--out=" + dir};
        System.arraycopy(head, 0, args, 0, head.length);
        System.arraycopy(TINY, 0, args, head.length, TINY.length);
        PrintStream saved = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        try {
            System.setOut(new PrintStream(captured, true));
            int code = Main.execute(args, new PrintWriter(System.out, true), new PrintWriter(err, true));
            return new Outcome(code, captured.toString(), err.toString());
        } finally {
            System.setOut(saved);
        }
    }

    @Test
    void aFailingRunLeavesTheOthersAndARerunCompletesOnlyIt(@TempDir Path dir) throws Exception {
        Path blocked = dir.resolve("diffsac-Pendulum-v1-2");
        Files.writeString(blocked, "a file where the run directory should go makes this run fail");
        Outcome first = sweep(dir);
        assertEquals(1, first.code(), first.out() + first.err());
        assertTrue(first.out().contains("diffsac-Pendulum-v1-2") && first.out().contains("FAILED"), first.out());
        for (String run : new String[] {"sac-Pendulum-v1-1", "sac-Pendulum-v1-2", "diffsac-Pendulum-v1-1"}) {
            assertTrue(Files.exists(dir.resolve(run).resolve("final.json")), run + " should have finished");
        }
        String finishedEval = Files.readString(dir.resolve("sac-Pendulum-v1-1").resolve("eval.csv"));

        Files.delete(blocked);
        Outcome second = sweep(dir);
        assertEquals(0, second.code(), second.out() + second.err());
        assertTrue(second.out().contains("starting diffsac-Pendulum-v1-2"), second.out());
        assertFalse(second.out().contains("starting sac-Pendulum-v1-1"), "finished runs must not rerun: " + second.out());
        assertEquals(3, second.out().lines().filter(l -> l.contains("skipped (finished)")).count(), second.out());
        assertTrue(Files.exists(blocked.resolve("final.json")));
        assertEquals(finishedEval, Files.readString(dir.resolve("sac-Pendulum-v1-1").resolve("eval.csv")));
    }

    @Test
    void badGridIsAClearError(@TempDir Path dir) {
        StringWriter err = new StringWriter();
        int code = Main.execute(new String[] {"sweep", "--algos", "sac,nope", "--envs", "Pendulum-v1", "--seeds", "1",
                "--out", dir.toString()}, new PrintWriter(new StringWriter()), new PrintWriter(err, true));
        assertEquals(2, code);
        assertTrue(err.toString().contains("unknown algorithm 'nope'"), err.toString());
    }
}
