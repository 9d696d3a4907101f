package org.lustra.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.lustra.defense.hetero.AttentionMask;
import org.lustra.defense.hetero.HeteroPurifier;
import org.lustra.diffusion.NoiseSource;
import org.lustra.model.Classifier;
import org.lustra.util.Files2;

/**
 * A panel like seed 002's Fig. 5, one row per image: the input, the normalised attention map of every stage, their
 * union thresholded (the mask M), the noised start x(t_l, t_s) of eq. 5, and the purified image, with the classifier's
 * prediction on the input and on the purified image. The x(t_l, t_s) shown is the very one the purification starts
 * from (the same first noise draw of the same seed).
 */
public final class HeteroFigure {
    private static final Color RIGHT = new Color(0x2e, 0xa0, 0x43);
    private static final Color WRONG = new Color(0xd7, 0x3a, 0x49);

    /**
     * What one row shows; every image is H×W values in [0, 1] (x(t_l, t_s) mapped from [-1, 1] and clipped).
     *
     * @param stageMaps one map per stage the mask uses, each min-max scaled for display
     */
    public record Row(float[] input, List<float[]> stageMaps, float[] mask, float[] noised, float[] purified,
            int label, int before, int after) {}

    /** The panel's rows, the purifier's name and the image size. */
    public record Panel(String purifier, List<Row> rows, int height, int width) {}

    private HeteroFigure() {}

    /** Computes the rows for {@code x} (N, 1, H, W in [0, 1]) with labels; one purification with {@code seed}. */
    public static Panel compute(HeteroPurifier p, Classifier c, NDArray x, int[] labels, long seed) {
        Shape s = x.getShape();
        int n = (int) s.get(0);
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        if (s.get(1) != 1) {
            throw new IllegalArgumentException("The hetero figure draws grey images (N, 1, H, W), got " + s);
        }
        try (NDManager m = x.getManager().newSubManager()) {
            m.tempAttachAll(x);
            List<NDArray> maps = AttentionMask.stageMaps(c.forward(x).stages(), p.options().mask(),
                    h, w);
            NDArray mask = AttentionMask.mask(maps, p.options().mask());
            // purify(x, mask, seed) draws its start noise first from this very source: the start shown is the one used
            NDArray eps = new NoiseSource(seed).normal(m, s);
            NDArray noised = p.forwardProcess(x, mask, eps).add(1f).div(2f).clip(0f, 1f);
            NDArray purified = p.purify(x, mask, seed);
            int[] before = c.logits(x).argMax(1).toType(ai.djl.ndarray.types.DataType.INT32, false).toIntArray();
            int[] after = c.logits(purified).argMax(1).toType(ai.djl.ndarray.types.DataType.INT32, false)
                    .toIntArray();
            List<float[]> mapValues = new ArrayList<>();
            for (NDArray a : maps) {
                mapValues.add(a.toFloatArray());
            }
            float[] xv = x.toFloatArray();
            float[] mv = mask.toFloatArray();
            float[] nv = noised.toFloatArray();
            float[] pv = purified.toFloatArray();
            int hw = h * w;
            List<Row> rows = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                List<float[]> stage = new ArrayList<>();
                for (float[] a : mapValues) {
                    stage.add(scaled(slice(a, i, hw)));
                }
                rows.add(new Row(slice(xv, i, hw), stage, slice(mv, i, hw), slice(nv, i, hw), slice(pv, i, hw),
                        labels[i], before[i], after[i]));
            }
            return new Panel(p.name(), rows, h, w);
        }
    }

    /** Writes the panel as a PNG, each image scaled up {@code scale}× (nearest neighbour), with column titles. */
    public static void write(Path file, Panel panel, List<String> classes, String title, int scale) {
        int stages = panel.rows().isEmpty() ? 0 : panel.rows().get(0).stageMaps().size();
        List<String> heads = new ArrayList<>(List.of("input"));
        for (int k = 0; k < stages; k++) {
            heads.add("attention, stage " + (k + 1));
        }
        heads.addAll(List.of("mask M", "x(t_l, t_s)", "purified"));
        int tileW = panel.width() * scale;
        int tileH = panel.height() * scale;
        int gap = 8;
        int top = 58;
        int rowH = tileH + 34;
        int width = gap + heads.size() * (tileW + gap);
        int height = top + panel.rows().size() * rowH + 8;
        // wide enough for the title and the purifier's name, which can be longer than the row of tiles
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D pg = probe.createGraphics();
        int text = Math.max(pg.getFontMetrics(new Font(Font.SANS_SERIF, Font.BOLD, 13)).stringWidth(title),
                pg.getFontMetrics(new Font(Font.SANS_SERIF, Font.PLAIN, 11)).stringWidth(panel.purifier()));
        pg.dispose();
        BufferedImage img = new BufferedImage(Math.max(width, text + 2 * gap), height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), height);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.drawString(title, gap, 18);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.drawString(panel.purifier(), gap, 34);
        for (int col = 0; col < heads.size(); col++) {
            g.drawString(heads.get(col), gap + col * (tileW + gap), top - 6);
        }
        for (int r = 0; r < panel.rows().size(); r++) {
            Row row = panel.rows().get(r);
            int y = top + r * rowH;
            List<float[]> tiles = new ArrayList<>(List.of(row.input()));
            tiles.addAll(row.stageMaps());
            tiles.addAll(List.of(row.mask(), row.noised(), row.purified()));
            for (int col = 0; col < tiles.size(); col++) {
                boolean heat = col >= 1 && col <= stages;
                draw(img, tiles.get(col), panel.width(), panel.height(), gap + col * (tileW + gap), y, scale, heat);
            }
            label(g, "true " + classes.get(row.label()) + ", seen " + classes.get(row.before()),
                    row.before() == row.label(), gap, y + tileH + 14);
            label(g, classes.get(row.after()), row.after() == row.label(), gap + (tiles.size() - 1) * (tileW + gap),
                    y + tileH + 14);
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format(Locale.ROOT, "mask %.0f %%", 100 * mean(row.mask())),
                    gap + (stages + 1) * (tileW + gap), y + tileH + 14);
        }
        g.dispose();
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            ImageIO.write(img, "png", out);
            Files2.writeAtomically(file, out.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException("Could not write " + file, e);
        }
    }

    private static void label(Graphics2D g, String text, boolean right, int x, int y) {
        g.setColor(right ? RIGHT : WRONG);
        g.drawString(text, x, y);
    }

    /** Grey, or for attention maps a blue-to-red heat ramp. */
    private static void draw(BufferedImage img, float[] v, int w, int h, int x0, int y0, int scale, boolean heat) {
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float t = Math.max(0f, Math.min(1f, v[y * w + x]));
                int rgb;
                if (heat) {
                    int r = Math.round(255 * Math.min(1f, 2 * t));
                    int b = Math.round(255 * Math.min(1f, 2 * (1 - t)));
                    int gr = Math.round(255 * (1 - Math.abs(2 * t - 1)));
                    rgb = (r << 16) | (gr << 8) | b;
                } else {
                    int k = Math.round(255 * t);
                    rgb = (k << 16) | (k << 8) | k;
                }
                for (int dy = 0; dy < scale; dy++) {
                    for (int dx = 0; dx < scale; dx++) {
                        img.setRGB(x0 + x * scale + dx, y0 + y * scale + dy, rgb);
                    }
                }
            }
        }
    }

    private static float[] slice(float[] a, int i, int len) {
        return java.util.Arrays.copyOfRange(a, i * len, (i + 1) * len);
    }

    /** Min-max to [0, 1] for display (softmax maps are tiny numbers; min-max maps are unchanged). */
    private static float[] scaled(float[] a) {
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (float v : a) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        float range = Math.max(hi - lo, 1e-12f);
        float[] out = new float[a.length];
        for (int j = 0; j < a.length; j++) {
            out[j] = (a[j] - lo) / range;
        }
        return out;
    }

    private static double mean(float[] a) {
        double s = 0;
        for (float v : a) {
            s += v;
        }
        return s / a.length;
    }
}
