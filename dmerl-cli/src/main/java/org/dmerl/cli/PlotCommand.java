package org.dmerl.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;

import javax.imageio.ImageIO;

import org.dmerl.cli.ReportCommand.Runs;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.DeviationRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code dmerl plot}: learning curves (eval return vs env steps) of run directories, one line per algorithm: the mean
 * across seeds, with a band of ± one standard error across seeds. Several environments go into one PNG as a grid of
 * subplots, one per environment.
 */
@Command(name = "plot", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Plot eval return vs env steps of run directories as a PNG.",
                "Runs are grouped by (env, algo): one chart per env, one line per algo: the",
                "mean across seeds of eval.csv's return_mean, with a shaded band of ± one",
                "standard error across seeds at the steps all seeds of the group evaluated",
                "(no band for a single seed). Several envs give one PNG with a grid of",
                "subplots, one per env; --width/--height are the size of the whole image.",
                "A directory holding run directories stands for all of them.",
                "--by KEY[,KEY] splits each algo's line by config values (config.yaml).",
                "Example: dmerl plot runs/sac-Hopper-v4-* runs/diffsac-Hopper-v4-* -o hopper.png"})
public final class PlotCommand implements Callable<Integer> {

    @Parameters(paramLabel = "RUN_DIR", arity = "1..*", description = "run directories written by 'dmerl train'")
    List<Path> dirs = new ArrayList<>();

    @Option(names = {"-o", "--out"}, paramLabel = "FILE.png", description = "the PNG to write (default: ${DEFAULT-VALUE})")
    Path out = Path.of("curves.png");

    @Option(names = "--by", split = ",", paramLabel = "KEY",
            description = "also group by these config keys (e.g. --by chain_target): one line per value")
    List<String> by = new ArrayList<>();

    @Option(names = "--title", paramLabel = "T", description = "title (default: the env, or a summary for several envs)")
    String title;

    @Option(names = "--width", paramLabel = "PX", description = "image width in pixels (default: ${DEFAULT-VALUE})")
    int width = 1000;

    @Option(names = "--height", paramLabel = "PX", description = "image height in pixels (default: ${DEFAULT-VALUE})")
    int height = 600;

    @Spec
    CommandSpec spec;

    /** Same colour for an algorithm in every subplot (tab10). */
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
            new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
            new Color(0xbcbd22), new Color(0x17becf)};

    @Override
    public Integer call() {
        if (width < 100 || height < 100 || width > 20000 || height > 20000) {
            throw new UserError("--width and --height must be between 100 and 20000 pixels, got " + width + "x" + height);
        }
        System.setProperty("java.awt.headless", "true");
        Runs.Loaded loaded = Runs.load(dirs);
        PrintWriter stdout = spec.commandLine().getOut(), stderr = spec.commandLine().getErr();
        for (String s : loaded.skipped()) stderr.println("dmerl: skipped " + s);

        Map<String, Map<String, List<Runs.Run>>> byEnv = new TreeMap<>();
        List<String> algos = new ArrayList<>();
        for (var g : Runs.groups(loaded.runs(), by).entrySet()) {
            String label = g.getKey().label();
            byEnv.computeIfAbsent(g.getKey().env(), k -> new LinkedHashMap<>()).put(label, g.getValue());
            if (!algos.contains(label)) algos.add(label);
        }
        algos.sort(null);
        List<JFreeChart> charts = new ArrayList<>();
        for (var e : byEnv.entrySet()) charts.add(chart(e.getKey(), e.getValue(), algos, byEnv.size() == 1 ? title : null));

        BufferedImage img = render(charts, byEnv.size() == 1 ? null
                : title != null ? title : "eval return vs env steps (mean ± s.e. across seeds)");
        write(img);
        stdout.printf(Locale.ROOT, "dmerl: wrote %s (%dx%d; %d env%s, %d runs%s)%n", out, width, height, byEnv.size(),
                byEnv.size() == 1 ? "" : "s", loaded.runs().size(),
                loaded.skipped().isEmpty() ? "" : ", " + loaded.skipped().size() + " skipped");
        stdout.flush();
        stderr.flush();
        return 0;
    }

    /** One env: a line per algorithm (mean over the seeds that evaluated at a step) and its ± s.e. band. */
    private static JFreeChart chart(String env, Map<String, List<Runs.Run>> groups, List<String> algos, String title) {
        XYSeriesCollection lines = new XYSeriesCollection();
        YIntervalSeriesCollection bands = new YIntervalSeriesCollection();
        XYLineAndShapeRenderer lineRenderer = new XYLineAndShapeRenderer(true, false);
        DeviationRenderer bandRenderer = new DeviationRenderer(false, false);
        bandRenderer.setAlpha(0.22f);
        bandRenderer.setDefaultSeriesVisibleInLegend(false);
        for (var g : groups.entrySet()) {
            Color color = PALETTE[algos.indexOf(g.getKey()) % PALETTE.length];
            List<Runs.Run> runs = g.getValue();
            // per seed: env_step -> return_mean (a repeated step keeps its last row)
            List<Map<Long, Double>> perSeed = new ArrayList<>();
            for (Runs.Run r : runs) {
                Map<Long, Double> m = new TreeMap<>();
                for (Runs.EvalRow row : r.evals()) m.put(row.step(), row.mean());
                if (!m.isEmpty()) perSeed.add(m);
            }
            if (perSeed.isEmpty()) continue;
            int n = perSeed.size();
            XYSeries line = new XYSeries(g.getKey() + " (" + n + (n == 1 ? " seed)" : " seeds)"), true, false);
            YIntervalSeries band = new YIntervalSeries(g.getKey() + " band", true, false);
            TreeSet<Long> steps = new TreeSet<>();
            perSeed.forEach(m -> steps.addAll(m.keySet()));
            for (long step : steps) {
                double[] ys = perSeed.stream().filter(m -> m.containsKey(step)).mapToDouble(m -> m.get(step)).toArray();
                double mean = Runs.mean(ys);
                line.add(step, mean);
                if (n >= 2 && ys.length == n) {
                    double se = Runs.std(ys) / Math.sqrt(n);
                    band.add(step, mean, mean - se, mean + se);
                }
            }
            int i = lines.getSeriesCount();
            lines.addSeries(line);
            lineRenderer.setSeriesPaint(i, color);
            lineRenderer.setSeriesStroke(i, new BasicStroke(2.0f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            if (line.getItemCount() <= 25) { // few points: mark them so a short run is still visible
                lineRenderer.setSeriesShapesVisible(i, true);
                lineRenderer.setSeriesShape(i, new Ellipse2D.Double(-3, -3, 6, 6));
            }
            if (band.getItemCount() > 0) {
                int b = bands.getSeriesCount();
                bands.addSeries(band);
                bandRenderer.setSeriesPaint(b, color);
                bandRenderer.setSeriesFillPaint(b, color);
            }
        }
        NumberAxis x = new NumberAxis("env steps");
        x.setNumberFormatOverride(new StepsFormat());
        x.setAutoRangeIncludesZero(false);
        NumberAxis y = new NumberAxis("eval return");
        y.setAutoRangeIncludesZero(false);
        XYPlot plot = new XYPlot(lines, x, y, lineRenderer);
        plot.setDataset(1, bands); // drawn before dataset 0 (default REVERSE order), so lines sit on top
        plot.setRenderer(1, bandRenderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        JFreeChart chart = new JFreeChart(title != null ? title : env, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        if (title != null) chart.addSubtitle(new TextTitle(env));
        chart.addSubtitle(new TextTitle("mean across seeds ± standard error", new Font(Font.SANS_SERIF, Font.PLAIN, 11)));
        chart.setBackgroundPaint(Color.WHITE);
        chart.setAntiAlias(true);
        chart.setTextAntiAlias(true);
        return chart;
    }

    /** One chart fills the image; several go into a near-square grid under a header line. */
    private BufferedImage render(List<JFreeChart> charts, String header) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g2 = img.createGraphics();
        try {
            g2.setColor(Color.WHITE);
            g2.fillRect(0, 0, width, height);
            int top = 0;
            if (header != null) {
                g2.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
                g2.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
                g2.setColor(Color.BLACK);
                FontMetrics fm = g2.getFontMetrics();
                top = fm.getHeight() + 12;
                g2.drawString(header, Math.max(4, (width - fm.stringWidth(header)) / 2), 6 + fm.getAscent());
            }
            int n = charts.size();
            int cols = (int) Math.ceil(Math.sqrt(n)), rows = (n + cols - 1) / cols;
            double cw = (double) width / cols, ch = (double) (height - top) / rows;
            for (int i = 0; i < n; i++) {
                charts.get(i).draw(g2, new Rectangle2D.Double((i % cols) * cw, top + (i / cols) * ch, cw, ch));
            }
        } finally {
            g2.dispose();
        }
        return img;
    }

    private void write(BufferedImage img) {
        try {
            Path abs = out.toAbsolutePath();
            if (abs.getParent() != null) Files.createDirectories(abs.getParent());
            Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
            if (!ImageIO.write(img, "png", tmp.toFile())) throw new IOException("no PNG writer available");
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UserError("cannot write " + out + ": " + e.getMessage());
        }
    }

    /** Axis ticks as 0, 500, 20k, 1.5M. */
    static final class StepsFormat extends NumberFormat {
        @Override
        public StringBuffer format(double v, StringBuffer sb, FieldPosition pos) {
            double a = Math.abs(v);
            if (a >= 1e6) return sb.append(trim(v / 1e6)).append('M');
            if (a >= 1e3) return sb.append(trim(v / 1e3)).append('k');
            return sb.append(trim(v));
        }

        @Override
        public StringBuffer format(long v, StringBuffer sb, FieldPosition pos) {
            return format((double) v, sb, pos);
        }

        @Override
        public Number parse(String source, ParsePosition pos) {
            return null;
        }

        private static String trim(double v) {
            String s = String.format(Locale.ROOT, "%.2f", v);
            return s.contains(".") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
        }
    }
}
