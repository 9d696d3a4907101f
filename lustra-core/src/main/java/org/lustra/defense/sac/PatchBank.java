package org.lustra.defense.sac;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.lustra.attack.AttackModel;
import org.lustra.attack.LaVan;
import org.lustra.attack.Patch;
import org.lustra.data.ImageSet;
import org.lustra.model.Classifier;
import org.lustra.util.Seed;

/**
 * Square adversarial patch contents (C·s·s floats, channel-major) that the segmenter's training pastes into images,
 * besides noise and natural crops. They come from LaVAN ({@link LaVan}) run against the protected classifier on
 * images of the segmenter's own training split (never eval512), each with its own patch side, and are pasted at other
 * places and into other images during training: the segmenter learns the look of optimised patches, not one image's.
 * Immutable; {@link #fingerprint()} goes into the training's settings, so a resumed run refuses another bank.
 *
 * @param channels C
 * @param patches the patch contents
 * @param sides each patch's side s
 */
public record PatchBank(int channels, List<float[]> patches, List<Integer> sides) {

    public PatchBank {
        if (channels < 1 || patches.size() != sides.size()) {
            throw new IllegalArgumentException("Invalid patch bank: " + channels + " channels, " + patches.size()
                    + " patches, " + sides.size() + " sides");
        }
        for (int i = 0; i < patches.size(); i++) {
            int s = sides.get(i);
            if (s < 1 || patches.get(i).length != channels * s * s) {
                throw new IllegalArgumentException("Invalid bank patch " + i + ": " + patches.get(i).length
                        + " values for side " + s + " and " + channels + " channels");
            }
        }
        patches = patches.stream().map(float[]::clone).toList();
        sides = List.copyOf(sides);
    }

    /** A bank without adversarial patches (training then pastes noise and natural crops only). */
    public static PatchBank empty(int channels) {
        return new PatchBank(channels, List.of(), List.of());
    }

    public int size() {
        return patches.size();
    }

    /** SHA-256 of the sides and contents, hex. */
    public String fingerprint() {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            for (int i = 0; i < patches.size(); i++) {
                d.update((byte) sides.get(i).intValue());
                for (float v : patches.get(i)) {
                    int b = Float.floatToIntBits(v);
                    d.update(new byte[] {(byte) (b >>> 24), (byte) (b >>> 16), (byte) (b >>> 8), (byte) b});
                }
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * LaVAN patches against {@code classifier}: images {@code first .. first + count − 1} of {@code images}, in groups
     * that cycle through {@code fractions} (patch area shares), {@code steps} signed-gradient steps each. Deterministic
     * for a seed (the engine's results are bitwise reproducible, DJL-NOTES).
     */
    public static PatchBank lavan(Classifier classifier, ImageSet images, int first, int count, List<Double> fractions,
            int steps, long seed) {
        if (first < 0 || count < 1 || first + count > images.size() || fractions.isEmpty()) {
            throw new IllegalArgumentException("Invalid patch bank: images " + first + ".." + (first + count - 1)
                    + " of " + images.size() + ", fractions " + fractions);
        }
        int c = images.channels();
        int h = images.height();
        int w = images.width();
        List<float[]> patches = new ArrayList<>();
        List<Integer> sides = new ArrayList<>();
        try (NDManager m = NDManager.newBaseManager()) {
            AttackModel target = new AttackModel(classifier::logits, m, new Shape(c, h, w), 1);
            int groups = fractions.size();
            for (int g = 0; g < groups; g++) {
                int from = first + g * count / groups;
                int to = first + (g + 1) * count / groups;
                if (to == from) {
                    continue;
                }
                float[] x = new float[(to - from) * c * h * w];
                int[] y = new int[to - from];
                for (int i = from; i < to; i++) {
                    System.arraycopy(images.imageFloats(i), 0, x, (i - from) * c * h * w, c * h * w);
                    y[i - from] = images.label(i);
                }
                LaVan.Options opt = new LaVan.Options(fractions.get(g), steps, 0.05,
                        Seed.of(seed).child("patch-bank").child(g).value());
                Patch.Result r = LaVan.attack(target, x, y, opt);
                int s = Patch.side(fractions.get(g), h, w);
                for (int i = 0; i < y.length; i++) {
                    patches.add(crop(r.adversarial(), r.masks(), i, s, c, h, w));
                    sides.add(s);
                }
            }
        }
        return new PatchBank(c, patches, sides);
    }

    /** The s×s content of image i's patch, located by its mask's first set pixel (the top-left corner). */
    private static float[] crop(float[] adv, float[] masks, int i, int s, int c, int h, int w) {
        int corner = 0;
        while (masks[i * h * w + corner] == 0f) {
            corner++;
        }
        int row = corner / w;
        int col = corner % w;
        float[] out = new float[c * s * s];
        for (int ch = 0; ch < c; ch++) {
            for (int a = 0; a < s; a++) {
                int src = i * c * h * w + (ch * h + row + a) * w + col;
                System.arraycopy(adv, src, out, (ch * s + a) * s, s);
            }
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PatchBank b && b.channels == channels && b.sides.equals(sides)
                && Arrays.deepEquals(b.patches.toArray(), patches.toArray());
    }

    @Override
    public int hashCode() {
        return fingerprint().hashCode();
    }
}
