package org.dmerl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotReportTest {

    record Outcome(int code, String out, String err) {}

    static Outcome run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Outcome(code, out.toString(), err.toString());
    }

    /** A run directory as 'dmerl train' writes it; {@code returns[i]} is the eval at env step 1000·i. */
    static Path fakeRun(Path root, String algo, String env, long seed, double[] returns, Double sps, Double wall,
                        boolean finished) throws Exception {
        Path dir = root.resolve(algo + "-" + env + "-" + seed);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.yaml"),
                "# dmerl resolved config\nalgo: " + algo + "\nenv: " + env + "\nseed: " + seed + "\nsteps: 2000\n");
        StringBuilder eval = new StringBuilder(RunWriter.EVAL_HEADER + "\n");
        for (int i = 0; i < returns.length; i++) {
            eval.append(String.format(Locale.ROOT, "%d,%.6g,%.6g,%d%n", 1000L * i, returns[i], 1.5, 5));
        }
        Files.writeString(dir.resolve("eval.csv"), eval.toString());
        Files.writeString(dir.resolve("progress.csv"), RunWriter.PROGRESS_HEADER + "\n"
                + "500,5.000,-10,200,1,2,0.2,-1,95.0\n" + "1500,15.000,-5,200,1,2,0.2,-1,97.5\n");
        if (finished) {
            double last = returns.length == 0 ? Double.NaN : returns[returns.length - 1];
            Files.writeString(dir.resolve("final.json"), String.format(Locale.ROOT, """
                    {
                      "algo": "%s",
                      "env": "%s",
                      "seed": %d,
                      "env_steps": 2000,
                      "agent_steps": 2000,
                      "grad_steps": 1500,
                      "wall_seconds": %.3f,
                      "steps_per_second": %.2f,
                      "steps_per_second_learning": null,
                      "eval_return_mean": %s,
                      "eval_return_std": 1.5000,
                      "threads": 1
                    }
                    """, algo, env, seed, wall, sps, Double.isFinite(last) ? String.valueOf(last) : "null"));
        }
        return dir;
    }

    /** 2 algos × 2 seeds on Hopper-v4. Final returns: sac 30, 34 (mean 32, std 2.83); diffsac 50, 60. */
    static List<Path> fourRuns(Path root) throws Exception {
        List<Path> runs = new ArrayList<>();
        runs.add(fakeRun(root, "sac", "Hopper-v4", 1, new double[] {10, 20, 30}, 100.0, 50.0, true));
        runs.add(fakeRun(root, "sac", "Hopper-v4", 2, new double[] {14, 24, 34}, 120.0, 70.0, true));
        runs.add(fakeRun(root, "diffsac", "Hopper-v4", 1, new double[] {5, 25, 50}, 40.0, 150.0, true));
        runs.add(fakeRun(root, "diffsac", "Hopper-v4", 2, new double[] {7, 35, 60}, 60.0, 210.0, true));
        return runs;
    }

    static String[] args(String cmd, List<Path> runs, String... more) {
        List<String> a = new ArrayList<>(List.of(cmd));
        runs.forEach(p -> a.add(p.toString()));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    static void assertOneLineError(Outcome o, String expected) {
        assertEquals(2, o.code(), "stdout: " + o.out() + " stderr: " + o.err());
        assertTrue(o.err().contains(expected), "stderr was: " + o.err());
        assertFalse(o.err().contains("\tat "), "no stack trace expected: " + o.err());
    }

    @Test
    void plotWritesPngOfTheRequestedSize(@TempDir Path tmp) throws Exception {
        List<Path> runs = fourRuns(tmp.resolve("runs"));
        Path png = tmp.resolve("out/curves.png");
        Outcome o = run(args("plot", runs, "-o", png.toString(), "--width", "800", "--height", "500", "--title", "T"));
        assertEquals(0, o.code(), o.err());
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(800, img.getWidth());
        assertEquals(500, img.getHeight());
        assertTrue(countColour(img, 0x1f77b4) > 50, "first algo's line colour expected in the plot");
        assertTrue(countColour(img, 0xff7f0e) > 50, "second algo's line colour expected in the plot");
        assertTrue(o.out().contains("wrote"), o.out());
    }

    @Test
    void plotOfSeveralEnvsIsOneGridPngWithDefaultSize(@TempDir Path tmp) throws Exception {
        List<Path> runs = fourRuns(tmp.resolve("runs"));
        fakeRun(tmp.resolve("runs"), "sac", "Pendulum-v1", 1, new double[] {-1200, -600, -180}, 300.0, 10.0, true);
        Path png = tmp.resolve("grid.png");
        // a folder of runs stands for the runs in it
        Outcome o = run("plot", tmp.resolve("runs").toString(), "-o", png.toString());
        assertEquals(0, o.code(), o.err());
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(1000, img.getWidth());
        assertEquals(600, img.getHeight());
        assertTrue(o.out().contains("2 envs, 5 runs"), o.out());
        assertEquals(4, runs.size());
    }

    @Test
    void reportTableHasMeansAcrossSeedsAndPublishedReference(@TempDir Path tmp) throws Exception {
        Outcome o = run(args("report", fourRuns(tmp)));
        assertEquals(0, o.code(), o.err());
        String md = o.out();
        assertTrue(md.contains("| env | algo | seeds |"), md);
        // sac: finals 30, 34 -> 32.0 ± 2.8 (sample std); 110 steps/s; 60 s
        assertTrue(md.contains("| Hopper-v4 | sac | 2 | 2000 | 32.0 ± 2.8 | 2310 ± 343 (CleanRL v4) | 110.0 | 60.0 s |"), md);
        // diffsac: finals 50, 60 -> 55.0 ± 7.1; no published number; 50 steps/s; 180 s = 3.0 min
        assertTrue(md.contains("| Hopper-v4 | diffsac | 2 | 2000 | 55.0 ± 7.1 | – | 50.0 | 3.0 min |"), md);
        assertTrue(md.indexOf("| diffsac |") < md.indexOf("| sac |"), "rows sorted by env, then algo");
    }

    @Test
    void reportWritesFileAndListsUnfinishedAndFailedRuns(@TempDir Path tmp) throws Exception {
        List<Path> runs = fourRuns(tmp.resolve("runs"));
        // unfinished: no final.json; its last eval row and progress row stand in
        runs.add(fakeRun(tmp.resolve("more"), "sac", "Hopper-v4", 3, new double[] {12, 26}, null, null, false));
        // failed: config.yaml and an eval.csv with only its header
        Path failed = fakeRun(tmp.resolve("more"), "sac", "Hopper-v4", 4, new double[0], null, null, false);
        runs.add(failed);
        Path md = tmp.resolve("report.md");
        Outcome o = run(args("report", runs, "-o", md.toString()));
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("wrote") && o.out().contains("1 skipped"), o.out());
        String text = Files.readString(md);
        // sac finals 30, 34, 26 -> 30.0 ± 4.0; sps 100, 120, 97.5 -> 105.8
        assertTrue(text.contains("| Hopper-v4 | sac | 3 (1 unfinished) | 1667 | 30.0 ± 4.0 | 2310 ± 343 (CleanRL v4) | 105.8 |"),
                text);
        assertTrue(text.contains("Skipped:") && text.contains(failed.toString()) && text.contains("no final.json"), text);

        // the plot also takes them, and names the skipped run on stderr
        Path png = tmp.resolve("c.png");
        Outcome p = run(args("plot", runs, "-o", png.toString()));
        assertEquals(0, p.code(), p.err());
        assertTrue(p.err().contains("skipped") && p.err().contains(failed.toString()), p.err());
        assertTrue(Files.exists(png));
    }

    @Test
    void badInputsAreOneLineErrorsWithExitCode2(@TempDir Path tmp) throws Exception {
        for (String cmd : List.of("plot", "report")) {
            assertEquals(2, run(cmd).code(), "no run dirs: " + cmd);
            assertOneLineError(run(cmd, tmp.resolve("nope").toString()), "no such run directory");
            Path empty = Files.createDirectories(tmp.resolve("empty"));
            assertOneLineError(run(cmd, empty.toString()), "is not a run directory");
            Path file = Files.writeString(tmp.resolve("file.txt"), "x");
            assertOneLineError(run(cmd, file.toString()), "is not a directory");
        }
        Path bad = fakeRun(tmp.resolve("bad"), "sac", "Hopper-v4", 1, new double[] {1, 2}, 10.0, 1.0, true);
        Files.writeString(bad.resolve("eval.csv"), RunWriter.EVAL_HEADER + "\n0,1,0,5\nzzz,not,numbers,5\n1000,2,0,5\n");
        assertOneLineError(run("report", bad.toString()), "eval.csv: line 3 is not a row of numbers");
        assertOneLineError(run("plot", bad.toString(), "-o", tmp.resolve("x.png").toString()), "eval.csv");
        Files.writeString(bad.resolve("eval.csv"), "step;return\n0;1\n");
        assertOneLineError(run("report", bad.toString()), "has no 'env_step' column");

        Path badJson = fakeRun(tmp.resolve("badjson"), "sac", "Hopper-v4", 1, new double[] {1}, 10.0, 1.0, true);
        Files.writeString(badJson.resolve("final.json"), "{ \"algo\": sac }");
        assertOneLineError(run("report", badJson.toString()), "cannot parse");

        Path failed = fakeRun(tmp.resolve("failed"), "sac", "Hopper-v4", 1, new double[0], null, null, false);
        assertOneLineError(run("report", failed.toString()), "were skipped");
        assertOneLineError(run("plot", fourRuns(tmp.resolve("ok")).getFirst().toString(), "--width", "0"),
                "--width and --height");
    }

    /** Appends a line to a run's config.yaml (as a --set key would appear there). */
    private static Path withConfig(Path run, String line) throws Exception {
        Files.writeString(run.resolve("config.yaml"), Files.readString(run.resolve("config.yaml")) + line + "\n");
        return run;
    }

    @Test
    void byConfigKeySplitsRowsAndLines(@TempDir Path tmp) throws Exception {
        List<Path> runs = new ArrayList<>();
        runs.add(withConfig(fakeRun(tmp.resolve("a"), "diffsac", "Hopper-v4", 1, new double[] {5, 25, 50}, 40.0, 150.0,
                true), "chain_target: substep"));
        runs.add(withConfig(fakeRun(tmp.resolve("a"), "diffsac", "Hopper-v4", 2, new double[] {7, 35, 60}, 60.0, 210.0,
                true), "chain_target: substep"));
        runs.add(withConfig(fakeRun(tmp.resolve("b"), "diffsac", "Hopper-v4", 1, new double[] {9, 99, 900}, 40.0, 150.0,
                true), "chain_target: real_entropy"));
        runs.add(fakeRun(tmp.resolve("c"), "sac", "Hopper-v4", 1, new double[] {10, 20, 30}, 100.0, 50.0, true));

        String md = run(args("report", runs)).out();
        assertTrue(md.contains("| Hopper-v4 | diffsac | 3 | 2000 | 336.7 ± 487.9 |"), "without --by one row: " + md);

        Outcome o = run(args("report", runs, "--by", "chain_target"));
        assertEquals(0, o.code(), o.err());
        md = o.out();
        assertTrue(md.contains("| Hopper-v4 | diffsac chain_target=real_entropy | 1 | 2000 | 900.0 |"), md);
        assertTrue(md.contains("| Hopper-v4 | diffsac chain_target=substep | 2 | 2000 | 55.0 ± 7.1 |"), md);
        // a run whose config lacks the key still gets its row, and keeps its published reference
        assertTrue(md.contains("| Hopper-v4 | sac chain_target=– | 1 | 2000 | 30.0 | 2310 ± 343 (CleanRL v4) |"), md);

        Path png = tmp.resolve("by.png");
        o = run(args("plot", runs, "--by", "chain_target", "-o", png.toString()));
        assertEquals(0, o.code(), o.err());
        BufferedImage img = ImageIO.read(png.toFile());
        for (int rgb : new int[] {0x1f77b4, 0xff7f0e, 0x2ca02c}) {
            assertTrue(countColour(img, rgb) > 50, "three lines expected, colour " + Integer.toHexString(rgb));
        }

        assertOneLineError(run(args("report", runs, "--by", "no_such_key")), "no run's config.yaml has the key 'no_such_key'");
        assertOneLineError(run(args("plot", runs, "--by", "no_such_key", "-o", png.toString())), "no_such_key");
    }

    @Test
    void halfWrittenLastRowOfAKilledRunIsIgnored(@TempDir Path tmp) throws Exception {
        Path dir = fakeRun(tmp, "sac", "Hopper-v4", 1, new double[] {1, 2}, null, null, false);
        Files.writeString(dir.resolve("eval.csv"), RunWriter.EVAL_HEADER + "\n0,1,0,5\n1000,2,0,5\n20");
        Outcome o = run("report", dir.toString());
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("| Hopper-v4 | sac | 1 (1 unfinished) | 1000 | 2.0 |"), o.out());
    }

    private static int countColour(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                if ((img.getRGB(x, y) & 0xffffff) == rgb) n++;
            }
        }
        return n;
    }
}
