package org.dmerl.env;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.dmerl.tensor.Rng;

/**
 * Checks an environment against the {@link Env} contract and measures it, like Gymnasium's {@code check_env} plus a
 * random-policy baseline:
 *
 * <ul>
 *   <li>spaces are non-empty and the action bounds finite;</li>
 *   <li>observations have the right length, are finite and lie in the observation space; rewards are finite and
 *       equal the sum of their {@code reward_*} terms;</li>
 *   <li>{@code reset(seed)} is deterministic, and two envs with one seed and one action sequence give identical
 *       rollouts (observations, rewards, flags, terms);</li>
 *   <li>an action of the wrong length is refused with an {@link IllegalArgumentException};</li>
 *   <li>the return of a uniform random policy over N episodes (mean and population std) and the env steps per
 *       second of those episodes, resets included.</li>
 * </ul>
 *
 * <p>Problems are collected, not thrown, so one report lists everything wrong (the first instance of each kind).
 */
public final class EnvCheck {

    /** Steps compared between two identically seeded envs. */
    static final int DETERMINISM_STEPS = 50;
    /** An episode longer than this is reported (an env without a time limit that never ends). */
    static final int MAX_EPISODE_STEPS = 100_000;

    private EnvCheck() {}

    /** The outcome of a check; {@link #ok()} when {@link #problems()} is empty. */
    public record Report(String env, int obsDim, int actionDim, double randomReturnMean, double randomReturnStd,
                         int episodes, double stepsPerSecond, List<String> problems) {

        public Report {
            problems = List.copyOf(problems);
        }

        public boolean ok() {
            return problems.isEmpty();
        }

        /** Several lines for people: dimensions, random return, speed and problems. */
        public String summary() {
            var text = new StringBuilder();
            text.append(env).append(": obs ").append(obsDim).append(", action ").append(actionDim).append('\n');
            text.append(String.format("random policy over %d episodes: return %.2f ± %.2f%n", episodes,
                    randomReturnMean, randomReturnStd));
            text.append(String.format("%.0f env steps/s (single thread, random actions, resets included)%n",
                    stepsPerSecond));
            if (problems.isEmpty()) text.append("no problems found\n");
            for (String problem : problems) text.append("PROBLEM: ").append(problem).append('\n');
            return text.toString();
        }
    }

    /** Checks registered env {@code id} (built with {@link EnvRegistry#make}, time limit included). */
    public static Report check(String id, int episodes, long seed) {
        EnvRegistry.spec(id); // unknown ids are a usage error, not a report
        return check(id, () -> EnvRegistry.make(id), episodes, seed);
    }

    /**
     * Checks the envs made by {@code factory} (called twice, for the determinism check; both are closed).
     *
     * @param name     what to call the env in the report
     * @param episodes random-policy episodes to run (at least 1)
     * @param seed     seeds the env resets and the random actions
     */
    public static Report check(String name, Supplier<? extends Env> factory, int episodes, long seed) {
        if (episodes < 1) throw new IllegalArgumentException("EnvCheck needs at least 1 episode, got " + episodes);
        Objects.requireNonNull(factory, "EnvCheck needs an env factory");
        var problems = new Problems();
        Env env;
        try {
            env = factory.get();
        } catch (RuntimeException | LinkageError e) {
            problems.add("create", "cannot create the env: " + e.getMessage());
            return new Report(name, 0, 0, Double.NaN, Double.NaN, 0, Double.NaN, problems.list());
        }
        try (env) {
            int obsDim = env.observationSpace().dim(), actionDim = env.actionSpace().dim();
            checkSpaces(env, problems);
            checkSeededReset(env, seed, problems);
            checkWrongActionIsRefused(env, seed, problems);
            checkDeterminism(env, factory, seed, problems);
            var rollouts = randomRollouts(env, episodes, seed, problems);
            return new Report(name, obsDim, actionDim, rollouts.mean(), rollouts.std(), rollouts.episodes(),
                    rollouts.stepsPerSecond(), problems.list());
        } catch (RuntimeException e) {
            problems.add("exception", "unexpected " + e);
            return new Report(name, env.observationSpace().dim(), env.actionSpace().dim(), Double.NaN, Double.NaN, 0,
                    Double.NaN, problems.list());
        }
    }

    private static void checkSpaces(Env env, Problems problems) {
        if (env.observationSpace().dim() == 0) problems.add("spaces", "observation space is empty");
        if (env.actionSpace().dim() == 0) problems.add("spaces", "action space is empty");
        for (int i = 0; i < env.actionSpace().dim(); i++) {
            if (!Double.isFinite(env.actionSpace().low()[i]) || !Double.isFinite(env.actionSpace().high()[i])) {
                problems.add("spaces", "action bound " + i + " is not finite: " + env.actionSpace());
            }
        }
    }

    private static void checkSeededReset(Env env, long seed, Problems problems) {
        double[] first = env.reset(seed);
        checkObservation(env, first, "reset(" + seed + ")", problems);
        if (!Arrays.equals(first, env.reset(seed))) {
            problems.add("reset", "reset(" + seed + ") twice gives different observations");
        }
    }

    private static void checkWrongActionIsRefused(Env env, long seed, Problems problems) {
        env.reset(seed);
        try {
            env.step(new double[env.actionSpace().dim() + 1]);
            problems.add("shape", "an action of length " + (env.actionSpace().dim() + 1) + " was accepted");
        } catch (IllegalArgumentException _) {
            // as required
        } catch (RuntimeException e) {
            problems.add("shape", "a wrong-length action gave " + e + " instead of IllegalArgumentException");
        }
    }

    private static void checkDeterminism(Env env, Supplier<? extends Env> factory, long seed, Problems problems) {
        try (Env twin = factory.get()) {
            if (!Arrays.equals(env.reset(seed), twin.reset(seed))) {
                problems.add("determinism", "two envs reset with seed " + seed + " start differently");
                return;
            }
            var rng = new Rng(seed);
            for (int t = 0; t < DETERMINISM_STEPS; t++) {
                double[] action = randomAction(env.actionSpace(), rng);
                StepResult a = env.step(action), b = twin.step(action);
                if (!Arrays.equals(a.observation(), b.observation()) || Double.compare(a.reward(), b.reward()) != 0
                        || a.terminated() != b.terminated() || a.truncated() != b.truncated()
                        || !Objects.equals(a.terms(), b.terms())) {
                    problems.add("determinism", "same seed and actions diverge at step " + t);
                    return;
                }
                if (a.done() && !Arrays.equals(env.reset(), twin.reset())) {
                    problems.add("determinism", "same seed, different reset after the episode ending at step " + t);
                    return;
                }
            }
        }
    }

    private record Rollouts(double mean, double std, int episodes, double stepsPerSecond) {}

    private static Rollouts randomRollouts(Env env, int episodes, long seed, Problems problems) {
        var rng = new Rng(seed ^ 0x5DEECE66DL);
        double[] returns = new double[episodes];
        long steps = 0;
        long start = System.nanoTime();
        for (int e = 0; e < episodes; e++) {
            double[] observation = e == 0 ? env.reset(seed) : env.reset();
            checkObservation(env, observation, "reset", problems);
            for (int t = 0; ; t++) {
                StepResult step = env.step(randomAction(env.actionSpace(), rng));
                steps++;
                checkStep(env, step, problems);
                returns[e] += step.reward();
                if (step.done()) break;
                if (t + 1 >= MAX_EPISODE_STEPS) {
                    problems.add("length", "an episode did not end within " + MAX_EPISODE_STEPS + " steps");
                    break;
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double mean = Arrays.stream(returns).average().orElse(Double.NaN);
        double variance = Arrays.stream(returns).map(r -> (r - mean) * (r - mean)).average().orElse(Double.NaN);
        return new Rollouts(mean, Math.sqrt(variance), episodes, steps / seconds);
    }

    /** Env steps per second of random actions over {@code steps} steps of registered env {@code id}, resets included. */
    public static double randomStepsPerSecond(String id, long steps, long seed) {
        if (steps < 1) throw new IllegalArgumentException("need at least 1 step, got " + steps);
        try (Env env = EnvRegistry.make(id)) {
            var rng = new Rng(seed ^ 0x5DEECE66DL);
            env.reset(seed);
            long start = System.nanoTime();
            for (long i = 0; i < steps; i++) {
                if (env.step(randomAction(env.actionSpace(), rng)).done()) env.reset();
            }
            return steps / Math.max(1e-9, (System.nanoTime() - start) / 1e9);
        }
    }

    private static void checkStep(Env env, StepResult step, Problems problems) {
        checkObservation(env, step.observation(), "step", problems);
        if (!Double.isFinite(step.reward())) problems.add("reward", "reward " + step.reward() + " is not finite");
        if (step.terms() == null) {
            problems.add("terms", "terms is null (use an empty map)");
            return;
        }
        double sum = 0, largest = Math.abs(step.reward());
        int count = 0;
        for (Map.Entry<String, Double> term : step.terms().entrySet()) {
            if (!term.getKey().startsWith("reward_")) continue;
            sum += term.getValue();
            largest = Math.max(largest, Math.abs(term.getValue()));
            count++;
        }
        // Exact up to the order of summation.
        if (count > 0 && Math.abs(sum - step.reward()) > 4 * count * Math.ulp(largest)) {
            problems.add("terms", "reward " + step.reward() + " is not the sum of its reward_* terms " + step.terms());
        }
    }

    private static void checkObservation(Env env, double[] observation, String when, Problems problems) {
        if (observation == null || observation.length != env.observationSpace().dim()) {
            problems.add("observation", "observation after " + when + " has length "
                    + (observation == null ? "null" : observation.length) + ", expected " + env.observationSpace().dim());
            return;
        }
        for (int i = 0; i < observation.length; i++) {
            if (!Double.isFinite(observation[i])) {
                problems.add("observation", "observation[" + i + "] after " + when + " is " + observation[i]);
                return;
            }
        }
        if (!env.observationSpace().contains(observation)) {
            problems.add("observation", "observation after " + when + " lies outside " + env.observationSpace());
        }
    }

    /** Uniform in the action box; an infinite bound is replaced by ±1 (reported by {@link #checkSpaces}). */
    private static double[] randomAction(BoxSpace space, Rng rng) {
        double[] action = new double[space.dim()];
        for (int i = 0; i < action.length; i++) {
            double low = Double.isFinite(space.low()[i]) ? space.low()[i] : -1;
            double high = Double.isFinite(space.high()[i]) ? space.high()[i] : 1;
            action[i] = rng.uniform(low, high);
        }
        return action;
    }

    /** The first problem of each kind, in the order found. */
    private static final class Problems {
        private final Map<String, String> firstByKind = new LinkedHashMap<>();

        void add(String kind, String message) {
            firstByKind.putIfAbsent(kind, message);
        }

        List<String> list() {
            return new ArrayList<>(firstByKind.values());
        }
    }
}
