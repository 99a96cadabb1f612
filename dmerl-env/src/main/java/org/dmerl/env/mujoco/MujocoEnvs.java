package org.dmerl.env.mujoco;

import java.util.Map;
import java.util.function.BiFunction;
import org.dmerl.env.Env;
import org.dmerl.env.EnvRegistry;
import org.dmerl.env.mujoco.MujocoEnv.Version;

/**
 * Registers the MuJoCo locomotion tasks under Gymnasium's ids, each with Gymnasium's 1000-step time limit. Building
 * one needs the MuJoCo library; without it construction throws a {@link MujocoException} saying why.
 */
public final class MujocoEnvs {
    private MujocoEnvs() {}

    /** Gymnasium's {@code max_episode_steps} for all five tasks. */
    public static final int MAX_EPISODE_STEPS = 1000;

    public static void registerAll() {
        register("Hopper", HopperEnv::new, "one-legged hopper, hop forward; obs 11, action 3 (MuJoCo)");
        register("HalfCheetah", HalfCheetahEnv::new,
                "planar cheetah, run forward, never terminates; obs 17, action 6 (MuJoCo)");
        register("Walker2d", Walker2dEnv::new, "planar biped, walk forward; obs 17, action 6 (MuJoCo)");
        register("Ant", AntEnv::new, "quadruped, walk in +x; obs 27 (v4) / 105 (v5), action 8 (MuJoCo)");
        register("Humanoid", HumanoidEnv::new, "3D biped, walk forward; obs 376 (v4) / 348 (v5), action 17 (MuJoCo)");
    }

    private static void register(String task, BiFunction<Version, Map<String, Object>, Env> factory,
                                 String description) {
        for (Version version : Version.values()) {
            String id = task + "-" + version.suffix();
            EnvRegistry.register(new EnvRegistry.Spec(id, options -> factory.apply(version, options),
                    MAX_EPISODE_STEPS, description));
        }
    }
}
