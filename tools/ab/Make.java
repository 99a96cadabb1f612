import org.dmerl.algo.Agents;
import org.dmerl.algo.Config;
import org.dmerl.algo.ReplayBuffer;
import org.dmerl.algo.Sac;
import org.dmerl.algo.TwinCritic;
import org.dmerl.policy.StochasticPolicy;
import org.dmerl.tensor.Gemm;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Parallel;
import org.dmerl.tensor.Rng;

/**
 * One repetition of a benchmark of {@code dmerl bench}, at the same shapes, as a Runnable. Compiled separately against
 * each build that {@code bin/ab-bench} compares and loaded in its own class loader. It repeats {@code Benchmarks}'
 * setup instead of calling it because it must compile against older revisions too, which have no such entry points.
 */
public final class Make {

    private Make() {}

    /** One SAC update, obs 17, act 6, 256×256, batch 256. */
    public static Runnable sac(int threads) {
        return sac(threads, 17, 6);
    }

    /** One SAC update at Pendulum-v1's shape (obs 3, act 1), 256×256, batch 256: the whole-run benchmark. */
    public static Runnable pendulum(int threads) {
        return sac(threads, 3, 1);
    }

    private static Runnable sac(int threads, int obsDim, int actDim) {
        Parallel.setThreads(threads);
        Config cfg = new Config();
        Rng rng = new Rng(7);
        int batch = 256;
        StochasticPolicy actor = Agents.gaussianPolicy(cfg, obsDim, actDim, rng);
        TwinCritic critic = Agents.critic(cfg, "c", obsDim, actDim, rng);
        TwinCritic target = Agents.critic(cfg, "t", obsDim, actDim, rng);
        Sac sac = new Sac(actor, critic, target, batch, 3e-4f, 1e-3f, 1e-3f, 0.2f, true, -actDim, 1f, 0.005f);
        ReplayBuffer buffer = new ReplayBuffer(10_000, obsDim, actDim, batch);
        float[] s = new float[obsDim], a = new float[actDim];
        for (int i = 0; i < 10_000; i++) {
            for (int j = 0; j < obsDim; j++) s[j] = (float) rng.gaussian();
            for (int j = 0; j < actDim; j++) a[j] = (float) rng.uniform(-1, 1);
            buffer.add(s, a, rng.gaussian(), s, 0.99f);
        }
        return () -> sac.update(buffer.sample(rng), rng);
    }

    /**
     * One SAC update at Pendulum-v1's shape on networks trained on Pendulum-v1 itself for 4000 env steps (learning
     * from 1000): the state of a real run, with the dead ReLU units and the actor's min(Q1, Q2) rows that random
     * data does not have. Every build reaches the same state (the products keep their bits), so both sides of a
     * comparison time the same arithmetic.
     */
    public static Runnable trained(int threads) {
        Parallel.setThreads(threads);
        Config cfg = new Config();
        Rng rng = new Rng(11);
        StochasticPolicy actor = Agents.gaussianPolicy(cfg, 3, 1, rng);
        TwinCritic critic = Agents.critic(cfg, "c", 3, 1, rng);
        TwinCritic target = Agents.critic(cfg, "t", 3, 1, rng);
        Sac sac = new Sac(actor, critic, target, 256, 3e-4f, 1e-3f, 1e-3f, 1f, true, -1, 1f, 0.005f);
        ReplayBuffer buffer = new ReplayBuffer(10_000, 3, 1, 256);
        org.dmerl.env.Env env = org.dmerl.env.EnvRegistry.make("Pendulum-v1");
        double[] obs = env.reset(5);
        float[] s = new float[3], a = new float[1], s2 = new float[3];
        double[] action = new double[1];
        Graph g = new Graph();
        for (int step = 0; step < 4000; step++) {
            if (step < 1000) {
                action[0] = rng.uniform(-1, 1);
            } else {
                g.reset();
                g.setGradEnabled(false);
                var o = g.input(1, 3);
                for (int i = 0; i < 3; i++) o.data[i] = (float) obs[i];
                var noise = g.input(1, 1);
                rng.fillGaussian(noise.data, 0, 1);
                action[0] = actor.act(g, o, noise).data[0];
            }
            var r = env.step(new double[] {2 * action[0]});
            for (int i = 0; i < 3; i++) {
                s[i] = (float) obs[i];
                s2[i] = (float) r.observation()[i];
            }
            a[0] = (float) action[0];
            buffer.add(s, a, r.reward(), s2, r.terminated() ? 0f : 0.99f);
            obs = r.done() ? env.reset() : r.observation();
            if (step >= 1000) sac.update(buffer.sample(rng), rng);
        }
        return () -> sac.update(buffer.sample(rng), rng);
    }

    /**
     * One DiffSAC update as DiffSAC's preset runs it (K = 8, obs 17, act 6, batch 256, real-entropy chain targets from
     * one drawn later sub-step), the shapes of {@code dmerl bench}'s DiffSAC rows.
     */
    public static Runnable diffsac(int threads) {
        Parallel.setThreads(threads);
        int obsDim = 17, actDim = 6, k = 8;
        Config cfg = new Config().set("diffusion_steps", k);
        Rng rng = new Rng(9);
        var actor = Agents.diffusionPolicy(cfg, obsDim, actDim, rng);
        TwinCritic critic = Agents.diffusionCritic(cfg, "c", obsDim, actDim, rng);
        TwinCritic target = Agents.diffusionCritic(cfg, "t", obsDim, actDim, rng);
        Sac sac = new Sac(actor, critic, target, 256, 3e-4f, 1e-3f, 1e-3f, 0.01f, true, -5f * actDim, k, 0.02f);
        int width = obsDim + actDim + k;
        ReplayBuffer buffer = new ReplayBuffer(10_000 / k * k, width, actDim, 256);
        buffer.withChains(k, true);
        float[] s = new float[width], a = new float[actDim];
        for (int i = 0; i < buffer.capacity(); i++) {
            for (int j = 0; j < obsDim + actDim; j++) s[j] = (float) rng.gaussian();
            for (int j = 0; j < k; j++) s[obsDim + actDim + j] = j == i % k ? 1f : 0f;
            for (int j = 0; j < actDim; j++) a[j] = (float) rng.gaussian();
            buffer.add(s, a, rng.gaussian(), s, 0.99f, k - 1 - i % k, 0.99f);
        }
        return () -> sac.update(buffer.sample(rng), rng);
    }

    /** One 256×256×256 product. */
    public static Runnable gemm(int threads) {
        Parallel.setThreads(threads);
        int n = 256;
        Rng rng = new Rng(1);
        float[] a = new float[n * n], b = new float[n * n], c = new float[n * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rng.gaussian();
            b[i] = (float) rng.gaussian();
        }
        return () -> Gemm.gemm(n, n, n, a, 0, n, 1, b, 0, n, c, 0, n);
    }

    /** One action of the K = 8 diffusion chain at batch 1, default network, obs 17, act 6. */
    public static Runnable sample(int threads) {
        Parallel.setThreads(threads);
        int obsDim = 17, actDim = 6, k = 8;
        Config cfg = new Config().set("diffusion_steps", k);
        Rng rng = new Rng(3);
        var policy = Agents.diffusionPolicy(cfg, obsDim, actDim, rng);
        Graph g = new Graph();
        float[] state = new float[obsDim], x = new float[actDim];
        for (int i = 0; i < obsDim; i++) state[i] = (float) rng.gaussian();
        return () -> {
            for (int i = 0; i < actDim; i++) x[i] = (float) (3 * rng.gaussian());
            for (int step = 0; step < k; step++) {
                g.reset();
                g.setGradEnabled(false);
                var o = g.input(1, obsDim + actDim + k);
                System.arraycopy(state, 0, o.data, 0, obsDim);
                System.arraycopy(x, 0, o.data, obsDim, actDim);
                for (int j = 0; j < k; j++) o.data[obsDim + actDim + j] = j == step ? 1f : 0f;
                var noise = g.input(1, actDim);
                rng.fillGaussian(noise.data, 0, actDim);
                System.arraycopy(policy.act(g, o, noise).data, 0, x, 0, actDim);
            }
        };
    }
}
