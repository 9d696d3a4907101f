package org.lustra.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Point;
import java.awt.image.BufferedImage;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Labelled image panels: enlarged with sharp pixels, with their headers and coloured captions drawn. */
class ImagePanelTest {
    private static final int SIZE = 28;
    private static final int SCALE = 6;

    /** A black 28×28 image with one white pixel at (x, y). */
    private static BufferedImage dot(int x, int y) {
        BufferedImage img = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setSample(x, y, 0, 255);
        return img;
    }

    private static ImagePanel.Rendered render(List<String> columns) {
        ImagePanel.Row row = new ImagePanel.Row("true: bag", List.of(dot(3, 5), dot(20, 10)),
                List.of(new ImagePanel.Caption("bag 0.99", ImagePanel.RIGHT),
                        new ImagePanel.Caption("coat 0.51", ImagePanel.WRONG)));
        return new ImagePanel(SCALE).render("heading", List.of(new ImagePanel.Section("a section", columns,
                List.of(row))), List.of("a footnote"));
    }

    @Test
    void givenAOnePixelDot_whenDrawnAtScale6_thenItIsASharp6x6BlockAtTheScaledPlace() {
        // when
        ImagePanel.Rendered r = render(List.of("adversarial", "clean"));
        // then: tiles are 168 px; the dot's block is exactly white, its neighbours exactly black (no blur)
        assertEquals(SIZE * SCALE, r.tile());
        Point o = r.origins().get(0);
        for (int dy = -1; dy <= SCALE; dy++) {
            for (int dx = -1; dx <= SCALE; dx++) {
                boolean inside = dx >= 0 && dx < SCALE && dy >= 0 && dy < SCALE;
                int v = r.image().getRGB(o.x + 3 * SCALE + dx, o.y + 5 * SCALE + dy) & 0xFFFFFF;
                assertEquals(inside ? 0xFFFFFF : 0x000000, v, "pixel (" + dx + ", " + dy + ") of the dot's block");
            }
        }
        Point o2 = r.origins().get(1);
        assertEquals(0xFFFFFF, r.image().getRGB(o2.x + 20 * SCALE + 2, o2.y + 10 * SCALE + 2) & 0xFFFFFF);
        assertTrue(o2.x >= o.x + SIZE * SCALE, "second tile right of the first");
    }

    @Test
    void givenColumnHeaders_whenDrawn_thenTheStripAboveTheTilesHasText() {
        // when
        ImagePanel.Rendered with = render(List.of("adversarial", "clean"));
        ImagePanel.Rendered without = render(List.of());
        // then
        assertTrue(with.labelled(), "a font was found");
        assertTrue(dark(with.image(), with.origins().get(0), -18, -2) > 10, "header text above the first tile");
        assertEquals(0, dark(without.image(), without.origins().get(0), -18, -2), "no header, blank strip");
    }

    @Test
    void givenARightAndAWrongPrediction_whenCaptioned_thenTheirStripsAreGreenAndRed() {
        // when
        ImagePanel.Rendered r = render(List.of());
        // then: under the first tile green text and no red, under the second red and no green
        int below = r.tile() + 2;
        assertTrue(tinted(r.image(), r.origins().get(0), below, ImagePanel.RIGHT) > 5, "green caption");
        assertEquals(0, tinted(r.image(), r.origins().get(0), below, ImagePanel.WRONG), "no red under a right one");
        assertTrue(tinted(r.image(), r.origins().get(1), below, ImagePanel.WRONG) > 5, "red caption");
        assertEquals(0, tinted(r.image(), r.origins().get(1), below, ImagePanel.RIGHT), "no green under a wrong one");
    }

    @Test
    void givenTilesOfTwoSizes_whenDrawn_thenRefused() {
        // given
        ImagePanel.Row row = new ImagePanel.Row("", Arrays.asList(dot(0, 0), new BufferedImage(10, 10,
                BufferedImage.TYPE_BYTE_GRAY)), List.of(ImagePanel.Caption.NONE, ImagePanel.Caption.NONE));
        // when / then
        assertThrows(IllegalArgumentException.class, () -> new ImagePanel(2).render("", List.of(
                new ImagePanel.Section("", List.of(), List.of(row))), List.of()));
    }

    @Test
    void givenALongFootnote_whenWrapped_thenNoLineIsLongerThanTheLimitAndNoWordIsLost() {
        // given
        String note = "Gradient: EXACT on the classifier alone (non-adaptive: the attack ignores the defence)";
        // when
        List<String> lines = ImagePanel.wrap(List.of(note), 30);
        // then
        assertTrue(lines.size() >= 3, lines.toString());
        lines.forEach(l -> assertTrue(l.length() <= 30, l));
        assertEquals(note, String.join(" ", lines));
    }

    /** Pixels darker than mid-grey in the strip from {@code from} to {@code to} rows relative to a tile's top. */
    private static int dark(BufferedImage img, Point o, int from, int to) {
        int n = 0;
        for (int y = o.y + from; y <= o.y + to; y++) {
            for (int x = o.x; x < o.x + SIZE * SCALE; x++) {
                Color c = new Color(img.getRGB(x, y));
                n += c.getRed() + c.getGreen() + c.getBlue() < 3 * 128 ? 1 : 0;
            }
        }
        return n;
    }

    /** Pixels of the caption strip (16 rows from {@code below}) clearly leaning to the colour's dominant channel. */
    private static int tinted(BufferedImage img, Point o, int below, Color colour) {
        boolean green = colour.getGreen() > colour.getRed();
        int n = 0;
        for (int y = o.y + below; y < o.y + below + 16; y++) {
            for (int x = o.x; x < o.x + SIZE * SCALE; x++) {
                Color c = new Color(img.getRGB(x, y));
                int lean = green ? c.getGreen() - c.getRed() : c.getRed() - c.getGreen();
                n += lean > 40 ? 1 : 0;
            }
        }
        return n;
    }
}
