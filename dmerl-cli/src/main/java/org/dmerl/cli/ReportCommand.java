package org.dmerl.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code dmerl report}: a markdown table, one row per (env, algo), summarising finished (and in-progress) runs, next
 * to the published reference return for that algorithm and task where there is one.
 */
@Command(name = "report", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Summarise run directories as a markdown table, one row per (env, algo):",
                "number of seeds, mean env steps, final eval return (mean ± std across seeds),",
                "the published reference return, mean steps/s and mean wall time.",
                "A directory holding run directories stands for all of them. Runs without",
                "final.json and without evaluation rows (failed, or stopped before their",
                "first evaluation) are listed as skipped.",
                "--by KEY[,KEY] splits each algo's row by config values (config.yaml).",
                "Example: dmerl report runs/sac-Hopper-v4-* runs/diffsac-Hopper-v4-* -o report.md"})
public final class ReportCommand implements Callable<Integer> {

    @Parameters(paramLabel = "RUN_DIR", arity = "1..*", description = "run directories written by 'dmerl train'")
    List<Path> dirs = new ArrayList<>();

    @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "write the markdown here instead of stdout")
    Path out;

    @Option(names = "--by", split = ",", paramLabel = "KEY",
            description = "also group by these config keys (e.g. --by chain_target): one row per value")
    List<String> by = new ArrayList<>();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Runs.Loaded loaded = Runs.load(dirs);
        String md = markdown(loaded, by);
        PrintWriter stdout = spec.commandLine().getOut();
        if (out == null) {
            stdout.print(md);
            stdout.flush();
        } else {
            try {
                Path parent = out.toAbsolutePath().getParent();
                if (parent != null) Files.createDirectories(parent);
                Files.writeString(out, md);
            } catch (IOException e) {
                throw new UserError("cannot write " + out + ": " + e.getMessage());
            }
            stdout.printf(Locale.ROOT, "dmerl: wrote %s (%d runs in %d groups%s)%n", out, loaded.runs().size(),
                    Runs.groups(loaded.runs(), by).size(),
                    loaded.skipped().isEmpty() ? "" : ", " + loaded.skipped().size() + " skipped");
            stdout.flush();
        }
        return 0;
    }

    static String markdown(Runs.Loaded loaded, List<String> by) {
        StringBuilder sb = new StringBuilder();
        sb.append("| env | algo | seeds | env steps | final eval return (mean ± std) | published | steps/s | wall time |\n");
        sb.append("|---|---|---:|---:|---:|---|---:|---:|\n");
        Set<String> sources = new LinkedHashSet<>();
        boolean anyUnfinished = false;
        for (var g : Runs.groups(loaded.runs(), by).entrySet()) {
            List<Runs.Run> runs = g.getValue();
            String env = g.getKey().env(), algo = g.getKey().algo();
            long unfinished = runs.stream().filter(r -> !r.finished()).count();
            anyUnfinished |= unfinished > 0;
            double[] finals = runs.stream().mapToDouble(Runs.Run::finalReturn).filter(Double::isFinite).toArray();
            double[] steps = runs.stream().mapToDouble(Runs.Run::envSteps).filter(Double::isFinite).toArray();
            double[] sps = runs.stream().mapToDouble(Runs.Run::stepsPerSecond).filter(Double::isFinite).toArray();
            double[] wall = runs.stream().mapToDouble(Runs.Run::wallSeconds).filter(Double::isFinite).toArray();
            Published ref = Published.lookup(algo, env);
            if (ref != null) sources.add(ref.source());
            sb.append("| ").append(env).append(" | ").append(g.getKey().label()).append(" | ").append(runs.size())
                    .append(unfinished > 0 ? " (" + unfinished + " unfinished)" : "").append(" | ")
                    .append(steps.length == 0 ? "–" : fmtSteps(Runs.mean(steps))).append(" | ")
                    .append(meanStd(finals)).append(" | ")
                    .append(ref == null ? "–" : ref.text()).append(" | ")
                    .append(sps.length == 0 ? "–" : String.format(Locale.ROOT, "%.1f", Runs.mean(sps))).append(" | ")
                    .append(wall.length == 0 ? "–" : fmtWall(Runs.mean(wall))).append(" |\n");
        }
        sb.append('\n');
        sb.append("Final eval return: each seed's last deterministic evaluation (final.json eval_return_mean); "
                + "mean ± sample std (n−1) across seeds. steps/s, wall time and env steps: mean across seeds.\n");
        if (anyUnfinished) {
            sb.append("Unfinished runs (no final.json) count with their last eval.csv row and progress.csv row.\n");
        }
        if (!sources.isEmpty()) {
            sb.append("\nPublished references (transcribed from the targets spec, shared/spec/targets.md §2.1–2.2):\n");
            for (String s : sources) sb.append("- ").append(s).append('\n');
        }
        if (!loaded.skipped().isEmpty()) {
            sb.append("\nSkipped:\n");
            for (String s : loaded.skipped()) sb.append("- ").append(s).append('\n');
        }
        return sb.toString();
    }

    static String meanStd(double[] xs) {
        if (xs.length == 0) return "–";
        if (xs.length == 1) return String.format(Locale.ROOT, "%.1f", xs[0]);
        return String.format(Locale.ROOT, "%.1f ± %.1f", Runs.mean(xs), Runs.std(xs));
    }

    static String fmtSteps(double s) {
        if (s >= 1e6) return String.format(Locale.ROOT, "%.2fM", s / 1e6);
        if (s >= 1e4) return String.format(Locale.ROOT, "%.0fk", s / 1e3);
        return String.format(Locale.ROOT, "%.0f", s);
    }

    static String fmtWall(double seconds) {
        if (seconds < 120) return String.format(Locale.ROOT, "%.1f s", seconds);
        if (seconds < 2 * 3600) return String.format(Locale.ROOT, "%.1f min", seconds / 60);
        return String.format(Locale.ROOT, "%.2f h", seconds / 3600);
    }

    /** A published reference return for one algorithm on one task. */
    record Published(String text, String source) {

        /*
         * Reference returns transcribed from /work/shared/spec/targets.md (the project's "Targets" spec):
         *  - SAC: §2.1 "SAC (≈1M env steps unless noted)", row CleanRL sac_continuous_action.py (v4), 1M steps,
         *    3 seeds, end-of-training return; Ant from the Tianshou (v3) row (CleanRL has no Ant run; Tianshou's
         *    metric is the max of the mean test return over training, so it is optimistic).
         *  - PPO: §2.2 "PPO (≈1M env steps unless noted)", row CleanRL ppo_continuous_action.py (v4), 1M steps,
         *    3 seeds; Ant from the Tianshou (v3), 1M row (max-average metric).
         *  - Pendulum-v1: §2.2, "Pendulum-v1 reference (SB3 zoo, 1 agent)": SAC after 20k steps, PPO after 100k.
         * No published numbers exist in the spec for DiffSAC/DiffPPO at comparable budgets (§1.0: "Numbers: not
         * retrieved"), so those show "–". Matching is by task name (the part before "-v"); the source label carries
         * the env version the number was measured on, since numbers are not portable across versions (§2.4).
         */
        private static final String CLEANRL = "CleanRL sac_continuous_action.py / ppo_continuous_action.py, "
                + "Gymnasium v4, 1M env steps, 3 seeds, end-of-training return";
        private static final String TIANSHOU = "Tianshou, Gym v3, 1M env steps, 10 seeds, max over training of the "
                + "mean test return (optimistic)";
        private static final String SB3 = "SB3 RL Zoo, 1 trained agent (SAC after 20k steps, PPO after 100k steps)";
        private static final Map<String, Published> TABLE = new LinkedHashMap<>();

        static {
            put("sac", "Hopper", "2310 ± 343", "CleanRL v4", CLEANRL);
            put("sac", "HalfCheetah", "9635 ± 1424", "CleanRL v4", CLEANRL);
            put("sac", "Walker2d", "3591 ± 911", "CleanRL v4", CLEANRL);
            put("sac", "Humanoid", "4996 ± 686", "CleanRL v4", CLEANRL);
            put("sac", "Ant", "5850 ± 476", "Tianshou v3, max", TIANSHOU);
            put("ppo", "Hopper", "2383 ± 272", "CleanRL v4", CLEANRL);
            put("ppo", "HalfCheetah", "1443 ± 46", "CleanRL v4", CLEANRL);
            put("ppo", "Walker2d", "2288 ± 572", "CleanRL v4", CLEANRL);
            put("ppo", "Humanoid", "716 ± 49", "CleanRL v4", CLEANRL);
            put("ppo", "Ant", "3258 ± 1079", "Tianshou v3, max", TIANSHOU);
            put("sac", "Pendulum", "-157.0 ± 88.7", "SB3 zoo, 20k", SB3);
            put("ppo", "Pendulum", "-172.2", "SB3 zoo, 100k", SB3);
        }

        private static void put(String algo, String task, String value, String tag, String source) {
            TABLE.put(algo + "/" + task, new Published(value + " (" + tag + ")", tag.replaceAll(",.*", "") + " = " + source));
        }

        static Published lookup(String algo, String env) {
            if (algo == null || env == null) return null;
            int v = env.lastIndexOf("-v");
            String task = v > 0 ? env.substring(0, v) : env;
            return TABLE.get(algo.toLowerCase(Locale.ROOT) + "/" + task);
        }
    }

    /** Reads run directories (config.yaml, eval.csv, progress.csv, final.json) for {@code plot} and {@code report}. */
    static final class Runs {
        private Runs() {}

        record EvalRow(long step, double mean) {}

        record Run(Path dir, String algo, String env, Long seed, boolean finished, List<EvalRow> evals,
                   Map<String, Object> fin, double[] lastProgress, Map<String, Object> config) {

            /** final.json's eval_return_mean, else the last eval.csv row. */
            double finalReturn() {
                double v = num(fin, "eval_return_mean");
                return Double.isFinite(v) || evals.isEmpty() ? v : evals.getLast().mean();
            }

            double envSteps() {
                double v = num(fin, "env_steps");
                return Double.isFinite(v) || evals.isEmpty() ? v : evals.getLast().step();
            }

            double stepsPerSecond() {
                double v = num(fin, "steps_per_second");
                return Double.isFinite(v) || lastProgress == null ? v : lastProgress[1];
            }

            double wallSeconds() {
                double v = num(fin, "wall_seconds");
                return Double.isFinite(v) || lastProgress == null ? v : lastProgress[0];
            }
        }

        /** One group: an env, an algorithm and the values of the {@code --by} keys (empty without them). */
        record Key(String env, String algo, String variant) {
            /** The algorithm and, after it, the {@code --by} values: "diffsac chain_target=real". */
            String label() {
                return variant.isEmpty() ? algo : algo + " " + variant;
            }
        }

        record Loaded(List<Run> runs, List<String> skipped) {}

        static Loaded load(List<Path> given) {
            if (given == null || given.isEmpty()) {
                throw new UserError("no run directories given (pass directories written by 'dmerl train')");
            }
            Set<Path> dirs = new LinkedHashSet<>();
            for (Path p : given) {
                if (!Files.isDirectory(p)) {
                    throw new UserError(Files.exists(p) ? p + " is not a directory (expected a run directory)"
                            : "no such run directory: " + p);
                }
                if (isRun(p)) {
                    dirs.add(p.normalize());
                    continue;
                }
                // a folder of runs (e.g. runs/) stands for the run directories directly inside it
                List<Path> children;
                try (Stream<Path> s = Files.list(p)) {
                    children = s.filter(Files::isDirectory).filter(Runs::isRun).sorted().toList();
                } catch (IOException e) {
                    throw new UserError("cannot list " + p + ": " + e.getMessage());
                }
                if (children.isEmpty()) {
                    throw new UserError(p + " is not a run directory (no config.yaml, eval.csv or final.json in it)");
                }
                children.forEach(c -> dirs.add(c.normalize()));
            }
            List<Run> runs = new ArrayList<>();
            List<String> skipped = new ArrayList<>();
            for (Path dir : dirs) {
                Path finalJson = dir.resolve("final.json"), config = dir.resolve("config.yaml");
                Map<String, Object> fin = Files.exists(finalJson) ? readJson(finalJson) : null;
                List<EvalRow> evals = readEval(dir.resolve("eval.csv"));
                if (fin == null && evals.isEmpty()) {
                    skipped.add(dir + ": no final.json and no evaluation rows (the run failed or stopped before its "
                            + "first evaluation)");
                    continue;
                }
                Map<String, Object> cfg = Files.exists(config) ? ConfigLoader.readYaml(config) : Map.of();
                String algo = str(fin, "algo", cfg), env = str(fin, "env", cfg);
                if (algo == null || env == null) {
                    skipped.add(dir + ": cannot tell its algo/env (neither final.json nor config.yaml names them)");
                    continue;
                }
                double seed = num(fin, "seed");
                if (!Double.isFinite(seed)) seed = cfg.get("seed") instanceof Number n ? n.doubleValue() : Double.NaN;
                double[] lastProgress = fin == null ? lastProgress(dir.resolve("progress.csv")) : null;
                runs.add(new Run(dir, algo, env, Double.isFinite(seed) ? (long) seed : null, fin != null, evals,
                        fin == null ? Map.of() : fin, lastProgress, cfg));
            }
            if (runs.isEmpty()) {
                throw new UserError("nothing to use: all " + dirs.size() + " run(s) were skipped; "
                        + skipped.getFirst());
            }
            return new Loaded(runs, skipped);
        }

        static boolean isRun(Path dir) {
            return Files.exists(dir.resolve("config.yaml")) || Files.exists(dir.resolve("final.json"))
                    || Files.exists(dir.resolve("eval.csv"));
        }

        /**
         * Runs grouped by env, algo and the values of the config keys {@code by} (each run's config.yaml; "–" where a
         * run's config lacks a key that others have), sorted by env then label. A key no run has is an error.
         */
        static Map<Key, List<Run>> groups(List<Run> runs, List<String> by) {
            for (String key : by) {
                if (runs.stream().noneMatch(r -> r.config().containsKey(key))) {
                    throw new UserError("--by " + key + ": no run's config.yaml has the key '" + key + "'");
                }
            }
            Map<Key, List<Run>> out = new TreeMap<>(Comparator.comparing(Key::env).thenComparing(Key::label));
            for (Run r : runs) {
                StringBuilder variant = new StringBuilder();
                for (String key : by) {
                    Object v = r.config().get(key);
                    if (!variant.isEmpty()) variant.append(' ');
                    variant.append(key).append('=').append(v == null ? "–" : String.valueOf(v));
                }
                out.computeIfAbsent(new Key(r.env(), r.algo(), variant.toString()), k -> new ArrayList<>()).add(r);
            }
            for (List<Run> l : out.values()) {
                l.sort(Comparator.comparing((Run r) -> r.seed() == null ? Long.MAX_VALUE : r.seed())
                        .thenComparing(Run::dir));
            }
            return out;
        }

        private static String str(Map<String, Object> fin, String key, Map<String, Object> cfg) {
            Object v = fin != null ? fin.get(key) : null;
            if (v == null) v = cfg.get(key);
            return v == null ? null : String.valueOf(v);
        }

        static double num(Map<String, Object> m, String key) {
            return m != null && m.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
        }

        static double mean(double[] xs) {
            return Arrays.stream(xs).average().orElse(Double.NaN);
        }

        /** Sample standard deviation (n−1); 0 for a single value. */
        static double std(double[] xs) {
            if (xs.length < 2) return 0;
            double m = mean(xs), ss = 0;
            for (double x : xs) ss += (x - m) * (x - m);
            return Math.sqrt(ss / (xs.length - 1));
        }

        // ---- files ----

        /** Rows of eval.csv ({@code env_step,return_mean,...}); an absent file is no rows. */
        static List<EvalRow> readEval(Path file) {
            List<EvalRow> rows = new ArrayList<>();
            for (double[] r : readCsv(file, "env_step", "return_mean")) rows.add(new EvalRow((long) r[0], r[1]));
            return rows;
        }

        /** The last progress.csv row's {wall_seconds, sps}, or null without one. */
        static double[] lastProgress(Path file) {
            List<double[]> rows = readCsv(file, "wall_seconds", "sps");
            return rows.isEmpty() ? null : rows.getLast();
        }

        /**
         * The named columns of a CSV with a header row. A last line without its newline that does not parse is a
         * half-written row of a killed run and is dropped; any other bad row is a {@link UserError}.
         */
        static List<double[]> readCsv(Path file, String... columns) {
            if (!Files.exists(file)) return List.of();
            String text;
            try {
                text = Files.readString(file);
            } catch (IOException | RuntimeException e) {
                throw new UserError("cannot read " + file + ": " + e.getMessage());
            }
            List<String> lines = text.lines().toList();
            if (lines.isEmpty()) return List.of();
            List<String> header = Arrays.stream(lines.getFirst().split(",", -1)).map(String::strip).toList();
            int[] idx = new int[columns.length];
            for (int c = 0; c < columns.length; c++) {
                idx[c] = header.indexOf(columns[c]);
                if (idx[c] < 0) {
                    throw new UserError("cannot read " + file + ": its header has no '" + columns[c]
                            + "' column (header: " + lines.getFirst().strip() + ")");
                }
            }
            boolean complete = text.endsWith("\n");
            List<double[]> rows = new ArrayList<>();
            for (int i = 1; i < lines.size(); i++) {
                String line = lines.get(i);
                if (line.isBlank()) continue;
                String[] f = line.split(",", -1);
                try {
                    double[] row = new double[columns.length];
                    for (int c = 0; c < columns.length; c++) row[c] = Double.parseDouble(f[idx[c]].strip());
                    rows.add(row);
                } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
                    if (i == lines.size() - 1 && !complete) break;
                    throw new UserError("cannot read " + file + ": line " + (i + 1) + " is not a row of numbers: '"
                            + (line.length() > 60 ? line.substring(0, 60) + "…" : line) + "'");
                }
            }
            return rows;
        }

        private static final Pattern JSON_ENTRY = Pattern.compile(
                "\\s*\"((?:[^\"\\\\]|\\\\.)*)\"\\s*:\\s*(\"(?:[^\"\\\\]|\\\\.)*\"|null|true|false|-?(?:NaN|Infinity)"
                        + "|-?[0-9][0-9.eE+\\-]*)\\s*(,|$)");

        /** A flat JSON object of strings, numbers, booleans and nulls (what {@link RunWriter#writeFinal} writes). */
        static Map<String, Object> readJson(Path file) {
            String text;
            try {
                text = Files.readString(file).strip();
            } catch (IOException | RuntimeException e) {
                throw new UserError("cannot read " + file + ": " + e.getMessage());
            }
            if (!text.startsWith("{") || !text.endsWith("}")) {
                throw new UserError("cannot parse " + file + ": expected a JSON object");
            }
            String body = text.substring(1, text.length() - 1).strip();
            Map<String, Object> out = new LinkedHashMap<>();
            Matcher m = JSON_ENTRY.matcher(body);
            int pos = 0;
            while (pos < body.length()) {
                if (!m.find(pos) || m.start() != pos) {
                    throw new UserError("cannot parse " + file + " near '"
                            + body.substring(pos, Math.min(body.length(), pos + 30)).strip() + "'");
                }
                String v = m.group(2);
                Object value;
                if (v.startsWith("\"")) value = v.substring(1, v.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
                else if (v.equals("null")) value = null;
                else if (v.equals("true") || v.equals("false")) value = Boolean.valueOf(v);
                else {
                    try {
                        value = Double.parseDouble(v);
                    } catch (NumberFormatException e) {
                        throw new UserError("cannot parse " + file + ": bad number '" + v + "' for " + m.group(1));
                    }
                }
                out.put(m.group(1), value);
                pos = m.end();
                while (pos < body.length() && Character.isWhitespace(body.charAt(pos))) pos++;
            }
            return out;
        }
    }
}
