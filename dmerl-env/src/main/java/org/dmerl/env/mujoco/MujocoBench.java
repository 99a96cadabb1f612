package org.dmerl.env.mujoco;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.dmerl.env.BoxSpace;
import org.dmerl.env.Env;
import org.dmerl.env.EnvCheck;
import org.dmerl.env.EnvRegistry;
import org.dmerl.env.StepResult;
import org.dmerl.tensor.Rng;

/**
 * Measures MuJoCo tasks: env steps per second on one thread and with a {@link ThreadedVectorEnv}, and the return of
 * a uniform random policy. The loop matches {@code native/mjbench.c} (random actions, reset when an episode ends),
 * so the two can be compared on one machine.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp ... org.dmerl.env.mujoco.MujocoBench \
 *     [--seconds 3] [--threads 2] [--episodes 10] [--skip-speed] [Hopper-v5 Humanoid-v5 ...]
 * </pre>
 * Without ids it runs every registered MuJoCo task.
 */
public final class MujocoBench {

    private MujocoBench() {}

    /**
     * One task's numbers. Steps per CPU-second count only the stepping thread's CPU time, so other processes on a
     * shared machine disturb them far less than steps per (wall-clock) second.
     */
    public record Result(String id, double stepsPerSecond, double stepsPerCpuSecond, double vectorStepsPerSecond,
                         double vectorStepsPerCpuSecond, int threads, double randomReturnMean, double randomReturnStd, int episodes) {}

    public static void main(String[] args) {
        double seconds = 3;
        int threads = 2, episodes = 10;
        boolean speed = true;
        var ids = new ArrayList<String>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--episodes" -> episodes = Integer.parseInt(args[++i]);
                case "--skip-speed" -> speed = false;
                default -> ids.add(args[i]);
            }
        }
        if (ids.isEmpty()) ids.addAll(mujocoIds());
        System.out.println(MujocoLibrary.get() + ", " + Runtime.getRuntime().availableProcessors() + " cores");
        System.out.printf("%-16s %12s %16s %16s %20s %24s%n", "task", "steps/s (1)", "steps/CPU-s (1)",
                "steps/s (" + threads + " thr)", "steps/CPU-s (" + threads + " thr)",
                "random return (" + episodes + " ep)");
        for (String id : ids) {
            Result r = measure(id, seconds, threads, episodes, speed);
            System.out.printf("%-16s %12s %16s %16s %20s %15.1f ± %-7.1f%n", r.id(), rate(r.stepsPerSecond()),
                    rate(r.stepsPerCpuSecond()), rate(r.vectorStepsPerSecond()), rate(r.vectorStepsPerCpuSecond()),
                    r.randomReturnMean(),
                    r.randomReturnStd());
        }
    }

    private static String rate(double value) {
        return Double.isNaN(value) ? "-" : "%.0f".formatted(value);
    }

    /** Every registered MuJoCo task id. */
    public static List<String> mujocoIds() {
        return EnvRegistry.ids().stream()
                .filter(id -> id.matches("(Hopper|HalfCheetah|Walker2d|Ant|Humanoid)-v\\d"))
                .toList();
    }

    public static Result measure(String id, double seconds, int threads, int episodes, boolean speed) {
        double[] single = {Double.NaN, Double.NaN};
        double[] vector = {Double.NaN, Double.NaN};
        if (speed) {
            try (Env env = EnvRegistry.make(id)) {
                single = singleThreaded(env, seconds);
            }
            try (var vectorEnv = ThreadedVectorEnv.make(id, Map.of(), threads, threads)) {
                vector = vectorised(vectorEnv, seconds);
            }
        }
        EnvCheck.Report report = EnvCheck.check(id, episodes, 2024);
        if (!report.ok()) System.err.println(report.summary());
        return new Result(id, single[0], single[1], vector[0], vector[1], threads, report.randomReturnMean(),
                report.randomReturnStd(), report.episodes());
    }

    /**
     * Env steps per second and per CPU-second of this thread, with random actions, resetting when an episode ends;
     * a warm-up run is not timed.
     */
    static double[] singleThreaded(Env env, double seconds) {
        var rng = new Rng(1);
        env.reset(1);
        run(env, rng, Math.min(1.0, seconds / 3)); // JIT warm-up
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        long start = System.nanoTime(), cpuStart = cpu.getCurrentThreadCpuTime();
        long steps = run(env, rng, seconds);
        double wall = (System.nanoTime() - start) / 1e9, cpuSeconds = (cpu.getCurrentThreadCpuTime() - cpuStart) / 1e9;
        return new double[] {steps / wall, steps / cpuSeconds};
    }

    private static long run(Env env, Rng rng, double seconds) {
        long end = System.nanoTime() + (long) (seconds * 1e9), steps = 0;
        double[] action = new double[env.actionSpace().dim()];
        while (System.nanoTime() < end) {
            for (int k = 0; k < 64; k++) {
                random(env.actionSpace(), rng, action);
                StepResult step = env.step(action);
                steps++;
                if (step.done()) env.reset();
            }
        }
        return steps;
    }

    /**
     * Aggregate env steps per second of a vector env (one copy per thread; it resets copies itself), and per CPU-second
     * of this whole process (the stepping threads, plus the JIT and GC threads, which are idle after the warm-up).
     */
    static double[] vectorised(ThreadedVectorEnv env, double seconds) {
        var rng = new Rng(2);
        double[][] actions = new double[env.numEnvs()][env.singleActionSpace().dim()];
        env.reset(1);
        for (int pass = 0; pass < 2; pass++) { // pass 0 warms up
            double duration = pass == 0 ? Math.min(1.0, seconds / 3) : seconds;
            long start = System.nanoTime(), end = start + (long) (duration * 1e9), steps = 0;
            long cpuStart = processCpuTime();
            while (System.nanoTime() < end) {
                for (double[] action : actions) random(env.singleActionSpace(), rng, action);
                env.step(actions);
                steps += env.numEnvs();
            }
            if (pass == 1) {
                double wall = (System.nanoTime() - start) / 1e9, cpuSeconds = (processCpuTime() - cpuStart) / 1e9;
                return new double[] {steps / wall, cpuStart < 0 ? Double.NaN : steps / cpuSeconds};
            }
        }
        throw new AssertionError();
    }

    private static long processCpuTime() {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : -1;
    }

    private static void random(BoxSpace space, Rng rng, double[] out) {
        for (int i = 0; i < out.length; i++) out[i] = rng.uniform(space.low()[i], space.high()[i]);
    }
}
