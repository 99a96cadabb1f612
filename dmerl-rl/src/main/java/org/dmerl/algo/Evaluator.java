package org.dmerl.algo;

import org.dmerl.env.Env;
import org.dmerl.env.StepResult;
import org.dmerl.policy.StochasticPolicy;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Tensor;

/** Deterministic evaluation: the policy's deterministic action, fixed episode seeds, real-environment returns. */
public final class Evaluator {

    public record Stats(double mean, double std, int episodes) {}

    private final Graph graph = new Graph();

    /** Runs {@code episodes} episodes; the first is reset with {@code seed}, the rest continue its stream. */
    public Stats evaluate(Env env, StochasticPolicy policy, int episodes, long seed) {
        double sum = 0, sumSq = 0;
        policy.resetEvalNoise(seed);
        double[] obs = env.reset(seed);
        for (int e = 0; e < episodes; e++) {
            if (e > 0) obs = env.reset();
            double ret = 0;
            while (true) {
                StepResult r = env.step(act(policy, obs));
                ret += r.reward();
                obs = r.observation();
                if (r.done()) break;
            }
            sum += ret;
            sumSq += ret * ret;
        }
        double mean = sum / episodes;
        double var = Math.max(0, sumSq / episodes - mean * mean);
        return new Stats(mean, Math.sqrt(var), episodes);
    }

    private double[] act(StochasticPolicy policy, double[] obs) {
        graph.reset();
        graph.setGradEnabled(false);
        Tensor o = graph.inputRow(obs);
        Tensor a = policy.deterministic(graph, o);
        double[] action = new double[a.cols()];
        for (int i = 0; i < action.length; i++) action[i] = a.data[i];
        return action;
    }
}
