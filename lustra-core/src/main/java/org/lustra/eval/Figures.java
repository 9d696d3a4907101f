package org.lustra.eval;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.geom.Ellipse2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.text.NumberFormat;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.lustra.util.Files2;

/**
 * Report charts, drawn by JFreeChart into a PNG without a display (the CLI runs with {@code java.awt.headless=true};
 * JFreeChart draws into a {@link BufferedImage} and needs no window). The only class that imports JFreeChart
 * (ArchitectureTest), so the plotting library stays out of everything but the reports.
 */
public final class Figures {
    /** The chart's size in pixels: wide enough for a legend of a dozen defence × attack names under the plot. */
    public static final int WIDTH = 800;
    public static final int HEIGHT = 500;

    private Figures() {}

    /** One line: a name for the legend and its points (x ascending), y a fraction in [0, 1]. */
    public record Series(String name, double[] x, double[] y) {
        public Series {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("A chart series needs a name for the legend.");
            }
            if (x.length != y.length || x.length == 0) {
                throw new IllegalArgumentException("Series '" + name + "' has " + x.length + " x and " + y.length
                        + " y values; give the same number, at least one.");
            }
            x = x.clone();
            y = y.clone();
        }
    }

    /** Colour-blind-safe Okabe–Ito colours (black last: the grid lines are grey), then repeated. */
    private static final Color[] PALETTE = {new Color(0x0072B2), new Color(0xD55E00), new Color(0x009E73),
        new Color(0xCC79A7), new Color(0xE69F00), new Color(0x56B4E9), new Color(0xF0E442), new Color(0x000000)};

    /** Draws the series on shared axes into a PNG of {@link #WIDTH} × {@link #HEIGHT}; y is shown as percent. */
    public static void lineChart(Path file, String title, String xLabel, List<Series> series) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(lineChartImage(title, xLabel, series), "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Files2.writeAtomically(file, out.toByteArray());
    }

    /** The chart as an image ({@link #WIDTH} × {@link #HEIGHT}, RGB on white). */
    static BufferedImage lineChartImage(String title, String xLabel, List<Series> series) {
        if (series.isEmpty()) {
            throw new IllegalArgumentException("A line chart needs at least one series.");
        }
        XYSeriesCollection data = new XYSeriesCollection();
        Set<String> names = new HashSet<>();
        for (Series s : series) {
            if (!names.add(s.name())) {
                throw new IllegalArgumentException("Two chart series are named '" + s.name() + "'; the legend "
                        + "needs distinct names.");
            }
            // autoSort off and duplicates allowed: the points are drawn in the caller's order, as given
            XYSeries xy = new XYSeries(s.name(), false, true);
            for (int i = 0; i < s.x().length; i++) {
                xy.add(s.x()[i], s.y()[i]);
            }
            data.addSeries(xy);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(title, xLabel, "robust accuracy", data,
                PlotOrientation.VERTICAL, true, false, false);
        chart.setBackgroundPaint(Color.WHITE);
        chart.setTitle(new TextTitle(title, new Font(Font.SANS_SERIF, Font.BOLD, 16)));
        chart.getLegend().setPosition(RectangleEdge.BOTTOM);
        chart.getLegend().setItemFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xDDDDDD));
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        plot.setOutlinePaint(Color.GRAY);
        NumberAxis y = (NumberAxis) plot.getRangeAxis();
        // accuracy lives in [0, 1]: a fixed axis keeps charts of different runs comparable at a glance
        y.setRange(0, 1.02);
        y.setTickUnit(new NumberTickUnit(0.2, NumberFormat.getPercentInstance(Locale.ROOT)));
        NumberAxis x = (NumberAxis) plot.getDomainAxis();
        x.setAutoRangeIncludesZero(true);
        x.setNumberFormatOverride(NumberFormat.getNumberInstance(Locale.ROOT));
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
        for (int k = 0; k < series.size(); k++) {
            r.setSeriesPaint(k, PALETTE[k % PALETTE.length]);
            r.setSeriesStroke(k, new BasicStroke(2.2f));
            r.setSeriesShape(k, new Ellipse2D.Double(-4, -4, 8, 8));
        }
        plot.setRenderer(r);
        return chart.createBufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB, null);
    }
}
