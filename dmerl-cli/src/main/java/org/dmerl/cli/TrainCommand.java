package org.dmerl.cli;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.dmerl.algo.Config;
import org.dmerl.algo.Checkpoints;
import org.dmerl.algo.Training;
import org.dmerl.algo.TrainingResult;
import org.dmerl.tensor.TensorArchive;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dmerl train}: one training run into a run directory. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train an agent. Writes config.yaml, progress.csv, eval.csv and final.json into the run directory.",
                "Example: dmerl train --algo sac --env Pendulum-v1 --steps 15000 --seed 1",
                "Every setting can be given with --set key=value; 'dmerl train --list-keys' shows them all."})
public final class TrainCommand implements Callable<Integer> {

    @Option(names = "--algo", description = "algorithm: sac, ppo, wpo, diffsac, diffppo, diffwpo (default: diffsac)")
    String algo;

    @Option(names = "--env", description = "environment id, see 'dmerl envs' (default: Pendulum-v1)")
    String env;

    @Option(names = "--steps", description = "real environment steps to train for")
    Long steps;

    @Option(names = "--seed", description = "random seed (default: 1)")
    Long seed;

    @Option(names = "--out", description = "run directory (default: runs/<algo>-<env>-<seed>-<timestamp>)")
    Path out;

    @Option(names = "--config", description = "YAML file of key: value settings (applied before --set)")
    Path config;

    @Option(names = "--set", description = "override a setting, e.g. --set batch_size=128 (repeatable)")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--threads", description = "compute threads of the learner: 1 or 2")
    Integer threads;

    @Option(names = "--resume", description = "continue the stopped or killed run in this directory from its latest checkpoint")
    Path resume;

    @Option(names = "--list-keys", description = "print every config key with its default and documentation")
    boolean listKeys;

    @Override
    public Integer call() {
        if (listKeys) {
            for (Config.Key k : Config.keys().values()) {
                System.out.printf(Locale.ROOT, "%-22s %-14s %s%n", k.name(), k.defaultValue(), k.doc());
            }
            return 0;
        }
        JvmCheck.report();
        if (resume != null) return resumeRun();
        Config cfg = resolve();
        Path dir = out != null ? out : Path.of("runs", String.format("%s-%s-%d-%s", cfg.getString("algo"),
                cfg.getString("env"), cfg.getLong("seed"),
                LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))));
        try (RunWriter writer = new RunWriter(dir, System.out, cfg.getLong("steps"), cfg.getLong("log_every"), false)
                .json(cfg.getString("log_format").equals("json"))) {
            RunWriter.writeAtomically(dir.resolve("config.yaml"), ConfigLoader.toYaml(cfg));
            System.out.printf("dmerl: training %s on %s for %d steps (seed %d) -> %s%n", cfg.getString("algo"),
                    cfg.getString("env"), cfg.getLong("steps"), cfg.getLong("seed"), dir);
            finish(writer, Training.run(cfg, writer, new Checkpoints(dir, null)));
        }
        return 0;
    }

    private Integer resumeRun() {
        if (algo != null || env != null || config != null || !overrides.isEmpty() || out != null) {
            throw new UserError("--resume continues a run with its own config; drop --algo/--env/--config/--set/--out");
        }
        // read once: a fallback to the previous checkpoint then warns once, and config, step and state agree
        TensorArchive checkpoint = Checkpoints.readLatest(resume);
        Config cfg = Config.readFrom(checkpoint);
        if (steps != null) cfg.set("steps", steps);
        long resumedAt = checkpoint.getLongs("counters")[0];
        RunWriter.truncateAfter(resume, resumedAt);
        try (RunWriter writer = new RunWriter(resume, System.out, cfg.getLong("steps"), cfg.getLong("log_every"), true)
                .json(cfg.getString("log_format").equals("json"))) {
            System.out.printf("dmerl: resuming %s on %s at env step %d of %d -> %s%n", cfg.getString("algo"),
                    cfg.getString("env"), resumedAt, cfg.getLong("steps"), resume);
            finish(writer, Training.run(cfg, writer, new Checkpoints(resume, checkpoint)));
        }
        return 0;
    }

    private static void finish(RunWriter writer, TrainingResult r) {
        writer.writeFinal(r);
        System.out.printf(Locale.ROOT, "dmerl: done: eval return %.2f ± %.2f, %.1f env steps/s, %.1f s%n",
                r.evalReturnMean(), r.evalReturnStd(), r.stepsPerSecond(), r.wallSeconds());
    }

    /**
     * Precedence, lowest first: built-in defaults, the algorithm's preset, the environment's preset, --config,
     * --set, explicit options.
     */
    Config resolve() {
        Config probe = new Config();
        applyUserSettings(probe);
        Config cfg = new Config();
        Presets.apply(cfg, probe.getString("algo"), probe.getString("env"));
        applyUserSettings(cfg);
        Training.validate(cfg);
        return cfg;
    }

    private void applyUserSettings(Config cfg) {
        if (config != null) ConfigLoader.applyYaml(cfg, config);
        for (String s : overrides) ConfigLoader.applyOverride(cfg, s);
        if (algo != null) cfg.set("algo", algo);
        if (env != null) cfg.set("env", env);
        if (steps != null) cfg.set("steps", steps);
        if (seed != null) cfg.set("seed", seed);
        if (threads != null) cfg.set("threads", threads);
    }
}
