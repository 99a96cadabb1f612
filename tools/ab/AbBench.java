import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Paired A/B timing of two builds in one JVM: each build's {@code Make} is loaded in its own class loader, and single
 * repetitions alternate A, B / B, A, so both see the same moments of a machine whose speed drifts. Prints each side's
 * median and the median and quartiles of the per-pair ratio B/A.
 *
 * <p>Usage: {@code AbBench CLASSPATH_A CLASSPATH_B sac|pendulum|trained|diffsac|gemm|sample THREADS PAIRS}
 */
public final class AbBench {

    public static void main(String[] args) throws Exception {
        String what = args[2];
        int threads = Integer.parseInt(args[3]), pairs = Integer.parseInt(args[4]);
        Runnable[] side = new Runnable[2];
        for (int i = 0; i < 2; i++) {
            URL[] urls = Arrays.stream(args[i].split(":")).map(p -> {
                try {
                    return Path.of(p).toUri().toURL();
                } catch (java.net.MalformedURLException e) {
                    throw new IllegalArgumentException(p, e);
                }
            }).toArray(URL[]::new);
            ClassLoader loader = new URLClassLoader(urls, ClassLoader.getPlatformClassLoader());
            side[i] = (Runnable) loader.loadClass("Make").getMethod(what, int.class).invoke(null, threads);
        }
        for (int i = 0; i < Math.max(200, pairs / 2); i++) {
            side[0].run();
            side[1].run();
        }
        double[][] t = new double[2][pairs];
        double[] ratio = new double[pairs];
        for (int i = 0; i < pairs; i++) {
            for (int j = 0; j < 2; j++) {
                int w = (i & 1) ^ j;
                long t0 = System.nanoTime();
                side[w].run();
                t[w][i] = (System.nanoTime() - t0) / 1e3;
            }
            ratio[i] = t[1][i] / t[0][i];
        }
        for (double[] x : t) Arrays.sort(x);
        Arrays.sort(ratio);
        System.out.printf(Locale.ROOT, "%s threads=%d pairs=%d: A median %.1f us, B median %.1f us; B/A per pair median %.3f "
                + "[quartiles %.3f, %.3f]%n", what, threads, pairs, t[0][pairs / 2], t[1][pairs / 2], ratio[pairs / 2],
                ratio[pairs / 4], ratio[3 * pairs / 4]);
    }
}
