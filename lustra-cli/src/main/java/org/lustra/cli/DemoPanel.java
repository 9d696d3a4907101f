package org.lustra.cli;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.lustra.app.Prediction;
import org.lustra.app.Purification;
import org.lustra.data.ImageDecoder;
import org.lustra.data.ImageFiles;
import org.lustra.eval.ImagePanel;

/**
 * The demo's picture: per image, adversarial | anomaly map | mask | purified | clean, each labelled with the
 * classifier's prediction (green when right, red when wrong), in blocks (e.g. non-adaptive and adaptive attack).
 * Drawn by {@link ImagePanel} (enlarged with nearest neighbour); where the JDK finds no font the tiles are drawn
 * without their labels and the caller says so.
 */
final class DemoPanel {
    /** 28-pixel images at 140 pixels, as in the reports' example panels. */
    private static final int SCALE = 5;
    private static final List<String> COLUMNS = List.of("adversarial", "anomaly map", "mask", "purified", "clean");

    /** One block of rows: a title, and per image the adversarial input, its purification and the clean image. */
    record Block(String title, float[] adversarial, List<Purification> purified, float[] clean,
            List<Prediction> cleanPredictions, int[] labels) {}

    private final int size;
    private final List<String> classNames;

    DemoPanel(int size, List<String> classNames) {
        this.size = size;
        this.classNames = classNames;
    }

    /** Writes the blocks as one PNG (atomically); returns false when the labels could not be drawn (no font). */
    boolean write(Path file, String heading, List<Block> blocks) {
        ImagePanel.Rendered r = render(heading, blocks);
        ImagePanel.writePng(file, r.image());
        return r.labelled();
    }

    ImagePanel.Rendered render(String heading, List<Block> blocks) {
        return new ImagePanel(SCALE).render(heading, blocks.stream().map(this::section).toList(), List.of());
    }

    private ImagePanel.Section section(Block b) {
        int d = size * size;
        List<ImagePanel.Row> rows = new ArrayList<>();
        for (int i = 0; i < b.labels().length; i++) {
            Purification p = b.purified().get(i);
            Prediction clean = b.cleanPredictions().get(i);
            int label = b.labels()[i];
            List<BufferedImage> tiles = Arrays.asList(tile(Arrays.copyOfRange(b.adversarial(), i * d, (i + 1) * d)),
                    tile(p.anomaly()), tile(p.mask()), tile(p.purified()),
                    tile(Arrays.copyOfRange(b.clean(), i * d, (i + 1) * d)));
            List<ImagePanel.Caption> captions = List.of(prediction(p.before(), label), ImagePanel.Caption.NONE,
                    p.maskedFraction() == null ? ImagePanel.Caption.NONE : new ImagePanel.Caption(String.format(
                            Locale.ROOT, "%.1f%% masked", 100 * p.maskedFraction()), ImagePanel.NEUTRAL),
                    prediction(p.after(), label), prediction(clean, label));
            rows.add(new ImagePanel.Row("true: " + classNames.get(label), tiles, captions));
        }
        return new ImagePanel.Section(b.title(), COLUMNS, rows);
    }

    /** A single-channel image in [0, 1] as a tile; null (a defence without anomaly map or mask) stays empty. */
    private BufferedImage tile(float[] image) {
        return image == null ? null : ImageFiles.toImage(image, 1, size, size);
    }

    private static ImagePanel.Caption prediction(Prediction p, int label) {
        return new ImagePanel.Caption(String.format(Locale.ROOT, "%s %.2f", p.className(), p.probability()),
                p.label() == label ? ImagePanel.RIGHT : ImagePanel.WRONG);
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
