package org.dmerl.cli;

import java.util.concurrent.Callable;

import org.dmerl.env.Env;
import org.dmerl.env.EnvRegistry;

import picocli.CommandLine.Command;

/** Lists registered environments with their observation and action sizes. */
@Command(name = "envs", mixinStandardHelpOptions = true, description = "List the environments with obs/action dims.")
public final class EnvsCommand implements Callable<Integer> {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        java.io.PrintWriter out = spec.commandLine().getOut();
        out.printf("%-18s %7s %7s %6s  %s%n", "id", "obs", "action", "limit", "description");
        for (String id : EnvRegistry.ids()) {
            EnvRegistry.Spec spec = EnvRegistry.spec(id);
            String obs, act;
            try (Env env = EnvRegistry.make(id)) {
                obs = String.valueOf(env.observationSpace().dim());
                act = String.valueOf(env.actionSpace().dim());
            } catch (RuntimeException e) {
                obs = "?";
                act = "?";
            }
            out.printf("%-18s %7s %7s %6s  %s%n", id, obs, act,
                    spec.maxEpisodeSteps() > 0 ? spec.maxEpisodeSteps() : "-", spec.description());
        }
        out.flush();
        return 0;
    }
}
