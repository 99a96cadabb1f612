import java.util.EnumSet;
import java.util.Locale;

import org.dmerl.cli.Benchmarks;

/**
 * {@code dmerl bench} without picocli: calls {@link Benchmarks#run} exactly as BenchCommand.call() does. Needed only when
 * the runtime lacks java.desktop, because picocli's reflection over the other subcommands (PlotCommand's AWT types)
 * fails there before any command runs. Usage: {@code BenchMain [--only=]gemm,sac,...} (no argument: all).
 */
public final class BenchMain {

    public static void main(String[] args) {
        EnumSet<Benchmarks.Kind> kinds = EnumSet.noneOf(Benchmarks.Kind.class);
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                System.out.println("usage: BenchMain [--only] KIND[,KIND...]   kinds: " + EnumSet.allOf(Benchmarks.Kind.class));
                System.exit(0);
            }
            if (a.equals("--only")) continue;
            if (a.startsWith("--only=")) a = a.substring("--only=".length());
            for (String k : a.split(",")) {
                if (!k.isBlank()) kinds.add(Benchmarks.Kind.valueOf(k.trim().toLowerCase(Locale.ROOT)));
            }
        }
        if (kinds.isEmpty()) kinds = EnumSet.allOf(Benchmarks.Kind.class);
        System.exit(Benchmarks.run(System.out, kinds));
    }
}
