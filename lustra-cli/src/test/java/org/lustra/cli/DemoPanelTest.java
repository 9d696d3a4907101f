package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Point;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.app.Prediction;
import org.lustra.app.Purification;
import org.lustra.eval.ImagePanel;

/** The demo's panel and the CLI's headless drawing. */
class DemoPanelTest {
    @TempDir
    Path tmp;

    private static final int SIZE = 28;

    @Test
    void givenTheCliRuns_whenItStarts_thenAwtIsHeadless() {
        // given: a JVM where nobody set the property (the test JVM's own setting removed)
        String before = System.getProperty("java.awt.headless");
        System.clearProperty("java.awt.headless");
        try {
            // when
            Main.execute("--version");
            // then
            assertEquals("true", System.getProperty("java.awt.headless"));
        } finally {
            if (before != null) {
                System.setProperty("java.awt.headless", before);
            }
        }
    }

    @Test
    void givenOneBlockOfTwoImages_whenThePanelIsDrawn_thenTilesAre140PxWithSharpPixels() throws Exception {
        // given: two images, a white dot in the adversarial one, a mask for the first only
        float[] adversarial = new float[2 * SIZE * SIZE];
        adversarial[5 * SIZE + 3] = 1f;
        float[] clean = new float[2 * SIZE * SIZE];
        Prediction bag = new Prediction(8, "bag", 0.9, Map.of());
        Prediction coat = new Prediction(4, "coat", 0.6, Map.of());
        List<Purification> purified = List.of(
                new Purification(coat, bag, new float[SIZE * SIZE], new float[SIZE * SIZE], new float[SIZE * SIZE],
                        0.05),
                new Purification(bag, bag, new float[SIZE * SIZE], null, null, null));
        DemoPanel.Block block = new DemoPanel.Block("block", adversarial, purified, clean, List.of(bag, bag),
                new int[] {8, 8});
        // when
        DemoPanel panel = new DemoPanel(SIZE, List.of("t-shirt", "trouser", "pullover", "dress", "coat", "sandal",
                "shirt", "sneaker", "bag", "boot"));
        ImagePanel.Rendered r = panel.render("heading", List.of(block));
        Path file = tmp.resolve("panel.png");
        panel.write(file, "heading", List.of(block));
        // then: 2 rows x 5 columns of 140-px tiles, the second row's anomaly map and mask left empty (white); the dot
        // an exactly white 5 x 5 square on black (nearest neighbour keeps it sharp); the file is the rendered picture
        assertTrue(r.labelled(), "a font was found");
        assertEquals(140, r.tile());
        assertEquals(10, r.origins().size());
        Point o = r.origins().get(0);
        for (int dy = -1; dy <= 5; dy++) {
            for (int dx = -1; dx <= 5; dx++) {
                boolean inside = dx >= 0 && dx < 5 && dy >= 0 && dy < 5;
                assertEquals(inside ? 0xFFFFFF : 0, r.image().getRGB(o.x + 15 + dx, o.y + 25 + dy) & 0xFFFFFF);
            }
        }
        Point mask2 = r.origins().get(7);
        assertEquals(0xFFFFFF, r.image().getRGB(mask2.x + 70, mask2.y + 70) & 0xFFFFFF, "no mask: empty place");
        Point mask1 = r.origins().get(2);
        assertEquals(0, r.image().getRGB(mask1.x + 70, mask1.y + 70) & 0xFFFFFF, "an all-zero mask is black");
        BufferedImage img = ImageIO.read(file.toFile());
        assertEquals(r.image().getWidth(), img.getWidth());
        assertEquals(r.image().getHeight(), img.getHeight());
    }
}
