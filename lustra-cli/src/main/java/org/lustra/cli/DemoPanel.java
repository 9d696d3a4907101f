package org.lustra.cli;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.lustra.app.Prediction;
import org.lustra.app.Purification;
import org.lustra.data.ImageDecoder;
import org.lustra.data.ImageFiles;
import org.lustra.util.Files2;

/**
 * The demo's picture: per image, adversarial | anomaly map | mask | purified | clean, each labelled with the
 * classifier's prediction (green when right, red when wrong), in blocks (e.g. non-adaptive and adaptive attack).
 * Drawn with Java2D; where the JDK finds no font the tiles are drawn without their labels and the caller says so.
 */
final class DemoPanel {
    private static final int SCALE = 4;
    private static final int GAP = 10;
    private static final int LABEL = 16;
    private static final int LEFT = 96;
    private static final int TITLE = 24;
    private static final String[] COLUMNS = {"adversarial", "anomaly map", "mask", "purified", "clean"};
    private static final Color RIGHT = new Color(0x2e, 0xa0, 0x43);
    private static final Color WRONG = new Color(0xd7, 0x3a, 0x49);

    /** One block of rows: a title, and per image the adversarial input, its purification and the clean image. */
    record Block(String title, float[] adversarial, List<Purification> purified, float[] clean,
            List<Prediction> cleanPredictions, int[] labels) {}

    private final int size;
    private final List<String> classNames;
    private boolean labelled = true;

    DemoPanel(int size, List<String> classNames) {
        this.size = size;
        this.classNames = classNames;
    }

    /** Writes the blocks as one PNG (atomically); returns false when the labels could not be drawn (no font). */
    boolean write(Path file, String heading, List<Block> blocks) {
        int tile = size * SCALE;
        int rows = blocks.stream().mapToInt(b -> b.labels().length).sum();
        int width = LEFT + COLUMNS.length * (tile + GAP);
        int height = TITLE + blocks.size() * (2 * TITLE) + rows * (tile + LABEL + GAP);
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            text(g, heading, 8, 17, Color.BLACK, Font.BOLD, 13);
            int y = TITLE;
            for (Block b : blocks) {
                y = block(g, b, y, tile);
            }
        } finally {
            g.dispose();
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", png);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Files2.writeAtomically(file, png.toByteArray());
        return labelled;
    }

    private int block(Graphics2D g, Block b, int top, int tile) {
        text(g, b.title(), 8, top + 18, Color.BLACK, Font.BOLD, 12);
        int y = top + TITLE;
        for (int c = 0; c < COLUMNS.length; c++) {
            text(g, COLUMNS[c], LEFT + c * (tile + GAP), y + 16, Color.DARK_GRAY, Font.PLAIN, 12);
        }
        y += TITLE;
        int d = size * size;
        for (int i = 0; i < b.labels().length; i++) {
            Purification p = b.purified().get(i);
            Prediction clean = b.cleanPredictions().get(i);
            float[][] tiles = {Arrays.copyOfRange(b.adversarial(), i * d, (i + 1) * d), p.anomaly(), p.mask(),
                p.purified(), Arrays.copyOfRange(b.clean(), i * d, (i + 1) * d)};
            String[] labels = {prediction(p.before()), "", p.maskedFraction() == null ? ""
                    : String.format(Locale.ROOT, "%.1f%% masked", 100 * p.maskedFraction()), prediction(p.after()),
                prediction(clean)};
            int[] shown = {p.before().label(), -1, -1, p.after().label(), clean.label()};
            text(g, "true: " + classNames.get(b.labels()[i]), 8, y + tile / 2, Color.BLACK, Font.PLAIN, 11);
            for (int c = 0; c < COLUMNS.length; c++) {
                int x = LEFT + c * (tile + GAP);
                if (tiles[c] != null) {
                    g.drawImage(ImageFiles.toImage(tiles[c], 1, size, size), x, y, tile, tile, null);
                }
                Color color = shown[c] < 0 ? Color.DARK_GRAY : shown[c] == b.labels()[i] ? RIGHT : WRONG;
                text(g, labels[c], x, y + tile + 13, color, Font.PLAIN, 11);
            }
            y += tile + LABEL + GAP;
        }
        return y;
    }

    private String prediction(Prediction p) {
        return String.format(Locale.ROOT, "%s %.2f", p.className(), p.probability());
    }

    /**
     * Draws a label; a JDK without any font throws from the font machinery (an Error in some versions), and then the
     * panel is finished without labels rather than not at all.
     */
    private void text(Graphics2D g, String s, int x, int y, Color color, int style, int points) {
        if (!labelled || s.isEmpty()) {
            return;
        }
        try {
            g.setColor(color);
            g.setFont(new Font(Font.SANS_SERIF, style, points));
            g.drawString(s, x, y);
        } catch (RuntimeException | InternalError | UnsatisfiedLinkError e) {
            labelled = false;
        }
    }

    /**
     * The images of row 1 (the adversarial inputs) of an example panel the harness wrote for a cell's first chunk
     * (rows clean, adversarial, purified; {@code n} columns, laid out by {@link ImageFiles#writeGrid}: a 2-pixel
     * border around every tile). Read back from the PNG, so they are the 8-bit images a user would have saved.
     */
    static float[] adversarialRow(Path example, int n, int size) {
        BufferedImage grid = ImageDecoder.readAnySize(example, 4096L * 4096L);
        float[] out = new float[n * size * size];
        int pad = 2;
        for (int i = 0; i < n; i++) {
            BufferedImage tile = grid.getSubimage(pad + i * (size + pad), pad + (size + pad), size, size);
            System.arraycopy(ImageFiles.pixels(tile, 1), 0, out, i * size * size, size * size);
        }
        return out;
    }
}
