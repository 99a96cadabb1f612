package org.dmerl.cli;

import java.io.PrintWriter;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code dmerl} command line. */
@Command(name = "dmerl", mixinStandardHelpOptions = true, version = "dmerl 0.1.0",
        description = {"Maximum-entropy reinforcement learning with diffusion-model policies.",
                "Start with:  dmerl train        (DiffSAC on Pendulum-v1 with default settings)",
                "             dmerl envs         (the environments you can train on)"},
        subcommands = {TrainCommand.class, EvalCommand.class, SampleCommand.class, EnvsCommand.class, EnvCheckCommand.class,
                SweepCommand.class, PlotCommand.class, ReportCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI; bad input becomes one line on {@code err} and exit code 2, never a stack trace. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("dmerl: " + ex.getMessage());
            err.println("Try 'dmerl " + ex.getCommandLine().getCommandName() + " --help'.");
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            if (ex instanceof UserError || ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
                    || ex instanceof java.io.UncheckedIOException) {
                err.println("dmerl: error: " + ex.getMessage());
                return 2;
            }
            if (ex instanceof org.dmerl.algo.TrainingDivergedException) {
                err.println("dmerl: training stopped: " + ex.getMessage());
                return 3;
            }
            throw ex;
        });
        return cl.execute(args);
    }
}
