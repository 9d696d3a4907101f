package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.GraphicsEnvironment;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report's line chart, drawn by JFreeChart without a display. */
class FiguresTest {
    @TempDir
    Path tmp;

    private static final double[] EPS = {0.0, 0.1, 0.2, 0.3};

    @Test
    void givenAHeadlessJvm_whenALineChartIsWritten_thenItIsAPngOfTheChartSize() throws Exception {
        // given: the test JVM runs headless, as the CLI does (surefire argLine, Main.execute)
        assertTrue(GraphicsEnvironment.isHeadless(), "the test JVM must be headless to show charts need no display");
        // when
        Path file = tmp.resolve("figures/chart.png");
        Figures.lineChart(file, "Robust accuracy", "eps (linf)", List.of(new Figures.Series("none pgd", EPS,
                new double[] {1, 0.5, 0.1, 0})));
        // then
        BufferedImage img = ImageIO.read(file.toFile());
        assertEquals(Figures.WIDTH, img.getWidth());
        assertEquals(Figures.HEIGHT, img.getHeight());
    }

    @Test
    void givenAHighAndALowFlatSeries_whenCharted_thenEachColourIsDrawnAtItsHeight() {
        // given: one series at 90 % (drawn first, blue) and one at 10 % (second, orange)
        List<Figures.Series> series = List.of(new Figures.Series("high", EPS, new double[] {0.9, 0.9, 0.9, 0.9}),
                new Figures.Series("low", EPS, new double[] {0.1, 0.1, 0.1, 0.1}));
        // when
        BufferedImage img = Figures.lineChartImage("t", "x", series);
        // then: the row with most pixels of a series' colour is its line (the legend's sample is short), the 90 %
        // line in the upper half of the plot and above the 10 % line, both well inside the picture
        int high = busiestRow(img, 0x0072B2);
        int low = busiestRow(img, 0xD55E00);
        assertTrue(high > 20 && high < Figures.HEIGHT / 2, "90 % line at row " + high);
        assertTrue(low > high + Figures.HEIGHT / 3, "10 % line at row " + low + ", 90 % at " + high);
        assertTrue(low < Figures.HEIGHT - 60, "10 % line at row " + low + " is above the axis and legend");
        assertTrue(count(img, high, 0x0072B2) > Figures.WIDTH / 2, "the 90 % line spans the plot");
    }

    @Test
    void givenTwoSeriesOfOneName_whenCharted_thenTheLegendClashIsRefused() {
        // given
        Figures.Series a = new Figures.Series("same", EPS, new double[] {1, 1, 1, 1});
        // when / then
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Figures.lineChartImage("t", "x", List.of(a, a)));
        assertTrue(e.getMessage().contains("same"), e.getMessage());
    }

    @Test
    void givenMoreXThanYValues_whenASeriesIsMade_thenItIsRefused() {
        // when / then
        assertThrows(IllegalArgumentException.class, () -> new Figures.Series("s", EPS, new double[] {1}));
    }

    private static int busiestRow(BufferedImage img, int rgb) {
        int best = -1;
        int bestCount = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            int c = count(img, y, rgb);
            if (c > bestCount) {
                bestCount = c;
                best = y;
            }
        }
        return best;
    }

    private static int count(BufferedImage img, int y, int rgb) {
        int n = 0;
        for (int x = 0; x < img.getWidth(); x++) {
            n += (img.getRGB(x, y) & 0xFFFFFF) == rgb ? 1 : 0;
        }
        return n;
    }
}
