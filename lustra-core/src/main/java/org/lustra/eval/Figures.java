package org.lustra.eval;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.lustra.util.Files2;

/** Small PNG line charts drawn with Java2D (no plotting dependency): accuracy against a budget. */
public final class Figures {
    private Figures() {}

    /** One line: a name for the legend and its points (x ascending). */
    public record Series(String name, double[] x, double[] y) {}

    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
        new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
        new Color(0xbcbd22), new Color(0x17becf)};

    /** Draws the series on shared axes; y is a fraction in [0, 1] shown as percent. */
    public static void lineChart(Path file, String title, String xLabel, List<Series> series) {
        int width = 760;
        int legendRows = series.size();
        int height = 420 + 16 * legendRows;
        int left = 64;
        int right = 24;
        int top = 40;
        int plotH = 300;
        int plotW = width - left - right;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        double xMin = Double.POSITIVE_INFINITY;
        double xMax = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (double v : s.x()) {
                xMin = Math.min(xMin, v);
                xMax = Math.max(xMax, v);
            }
        }
        xMin = Math.min(0, xMin);
        if (!(xMax > xMin)) {
            xMax = xMin + 1;
        }
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, left, 24);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.drawRect(left, top, plotW, plotH);
        for (int i = 0; i <= 5; i++) {
            int y = top + plotH - i * plotH / 5;
            g.setColor(new Color(0xdddddd));
            g.drawLine(left + 1, y, left + plotW - 1, y);
            g.setColor(Color.BLACK);
            g.drawString(i * 20 + "%", left - 36, y + 4);
            double xv = xMin + i * (xMax - xMin) / 5;
            int x = left + i * plotW / 5;
            g.drawString(String.format(Locale.ROOT, "%.3g", xv), x - 12, top + plotH + 16);
        }
        g.drawString(xLabel, left + plotW / 2 - 40, top + plotH + 34);
        g.setStroke(new BasicStroke(2f));
        for (int k = 0; k < series.size(); k++) {
            Series s = series.get(k);
            g.setColor(PALETTE[k % PALETTE.length]);
            int px = -1;
            int py = -1;
            for (int i = 0; i < s.x().length; i++) {
                int x = left + (int) Math.round((s.x()[i] - xMin) / (xMax - xMin) * plotW);
                int y = top + plotH - (int) Math.round(Math.max(0, Math.min(1, s.y()[i])) * plotH);
                g.fillOval(x - 3, y - 3, 7, 7);
                if (px >= 0) {
                    g.drawLine(px, py, x, y);
                }
                px = x;
                py = y;
            }
            int ly = top + plotH + 56 + 16 * k;
            g.drawLine(left, ly - 4, left + 24, ly - 4);
            g.setColor(Color.BLACK);
            g.drawString(s.name(), left + 32, ly);
        }
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Files2.writeAtomically(file, out.toByteArray());
    }
}
