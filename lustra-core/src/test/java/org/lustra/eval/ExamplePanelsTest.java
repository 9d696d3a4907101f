package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Point;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.util.LustraHome;

/**
 * The report's labelled example panels, made from a committed run (docs/results/diffender-adaptive: four defended
 * cells of 32 images, raw example grids 242×92) copied to a temporary folder; no engine is needed.
 */
class ExamplePanelsTest {
    @TempDir
    Path tmp;

    Path run;

    @BeforeEach
    void copyRun() throws IOException {
        Path from = LustraHome.root().resolve("docs/results/diffender-adaptive");
        run = tmp.resolve("run");
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path to = run.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(f, to);
                }
            }
        }
    }

    @Test
    void givenARunWithExampleGrids_whenTheReportIsWritten_thenEveryGridHasALabelledPanelEmbeddedInTheReport()
            throws IOException {
        // when
        Report.write(run);
        // then
        String md = Files.readString(run.resolve("report.md"));
        List<Path> grids;
        try (Stream<Path> files = Files.list(run.resolve("examples"))) {
            grids = files.sorted().toList();
        }
        assertEquals(4, grids.size());
        for (Path grid : grids) {
            String name = "figures/examples/" + grid.getFileName();
            BufferedImage panel = ImageIO.read(run.resolve(name).toFile());
            assertTrue(panel.getWidth() >= 8 * 28 * ExamplePanels.SCALE, name + " width " + panel.getWidth());
            assertTrue(panel.getHeight() >= 3 * 28 * ExamplePanels.SCALE, name + " height " + panel.getHeight());
            assertTrue(md.contains("](" + name + ")"), "report.md embeds " + name);
        }
    }

    @Test
    void givenARunsGrids_whenDrawn_thenEveryTileIsTheRawImageEnlargedPixelForPixel() {
        // given
        Report.Summary s = Report.summarise(run);
        // when
        List<ExamplePanels.Drawn> drawn = ExamplePanels.draw(run, s);
        // then: 3 rows (clean, adversarial, purified) × 8 columns of 140-px tiles, each block the grid's pixel
        assertEquals(4, drawn.size());
        for (ExamplePanels.Drawn d : drawn) {
            BufferedImage grid = read(run.resolve("examples").resolve(d.name().substring(d.name().lastIndexOf('/')
                    + 1)));
            ImagePanel.Rendered r = d.rendered();
            assertEquals(28 * ExamplePanels.SCALE, r.tile());
            assertEquals(24, r.origins().size(), d.name());
            for (int row = 0; row < 3; row++) {
                for (int col = 0; col < 8; col++) {
                    Point o = r.origins().get(row * 8 + col);
                    for (int y = 0; y < 28; y++) {
                        for (int x = 0; x < 28; x++) {
                            int raw = grid.getRaster().getSample(2 + col * 30 + x, 2 + row * 30 + y, 0);
                            int shown = r.image().getRGB(o.x + x * ExamplePanels.SCALE + 2,
                                    o.y + y * ExamplePanels.SCALE + 2) & 0xFF;
                            assertEquals(raw, shown, d.name() + " row " + row + " col " + col + " (" + x + "," + y
                                    + ")");
                        }
                    }
                }
            }
        }
    }

    @Test
    void givenARunsRecords_whenDrawn_thenTrueClassesHeadTheColumnsAndCaptionColoursFollowTheOutcome() {
        // given
        Report.Summary s = Report.summarise(run);
        // when
        List<ExamplePanels.Drawn> drawn = ExamplePanels.draw(run, s);
        // then: text above every column; under each purified tile green iff the record is robust, red iff not
        boolean sawWrong = false;
        for (ExamplePanels.Drawn d : drawn) {
            ImagePanel.Rendered r = d.rendered();
            assertTrue(r.labelled(), "a font was found");
            for (int col = 0; col < 8; col++) {
                Point top = r.origins().get(col);
                assertTrue(count(r.image(), top.x, top.y - 18, r.tile(), 16, c -> c.getRed() < 128) > 10,
                        d.name() + ": header over column " + col);
                Point purified = r.origins().get(16 + col);
                boolean robust = d.records().get(col).robust();
                sawWrong |= !robust;
                int green = count(r.image(), purified.x, purified.y + r.tile() + 2, r.tile(), 14,
                        c -> c.getGreen() - c.getRed() > 40);
                int red = count(r.image(), purified.x, purified.y + r.tile() + 2, r.tile(), 14,
                        c -> c.getRed() - c.getGreen() > 40);
                assertEquals(robust, green > 5, d.name() + " column " + col + ": green caption iff robust");
                assertEquals(!robust, red > 5, d.name() + " column " + col + ": red caption iff fooled");
            }
        }
        assertTrue(sawWrong, "the committed run has fooled images among the examples, so red is tested too");
        assertFalse(drawn.isEmpty());
    }

    private static BufferedImage read(Path file) {
        try {
            return ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static int count(BufferedImage img, int x0, int y0, int w, int h,
            Predicate<Color> test) {
        int n = 0;
        for (int y = y0; y < y0 + h; y++) {
            for (int x = x0; x < x0 + w; x++) {
                n += test.test(new Color(img.getRGB(x, y))) ? 1 : 0;
            }
        }
        return n;
    }
}
