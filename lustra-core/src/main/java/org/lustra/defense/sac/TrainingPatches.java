package org.lustra.defense.sac;

import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import org.lustra.data.ImageSet;
import org.lustra.defense.learned.MaskTraining;

/**
 * The segmenter's training examples (SAC §3.2 trains on images with pasted patches and their masks): a training image
 * with one pasted patch, or left clean, and the true patch mask. Content, shape and size vary so that the segmenter
 * learns "a pasted foreign region", not one patch's look:
 * <ul>
 *   <li>content: uniform noise, blocky noise (2×2 cells), a natural crop of another training image, or an adversarial
 *       patch of the {@link PatchBank} (when it has any), each equally likely;</li>
 *   <li>shape: square, rectangle (aspect 1:2 .. 2:1) or disc;</li>
 *   <li>size: area share uniform in [minFraction, maxFraction] (the seed's Table 3 spans 0.5 %–15 %);</li>
 *   <li>place: uniform over the image.</li>
 * </ul>
 * Every random choice comes from the caller's generator, so a training step replays exactly.
 *
 * @param images the training images (the segmenter's split of data/validation; never eval512)
 * @param bank adversarial patch contents, possibly empty
 * @param cleanShare share of examples left without a patch (all-zero mask), so the segmenter learns to leave clean
 *     images alone
 * @param minFraction smallest patch area share
 * @param maxFraction largest patch area share
 */
public record TrainingPatches(ImageSet images, PatchBank bank, double cleanShare, double minFraction,
        double maxFraction) {

    public TrainingPatches {
        if (!(cleanShare >= 0 && cleanShare < 1) || !(minFraction > 0 && minFraction <= maxFraction
                && maxFraction < 0.5)) {
            throw new IllegalArgumentException("Invalid training patches: clean share " + cleanShare + " (0..1), "
                    + "fractions " + minFraction + ".." + maxFraction + " (0 < min <= max < 0.5)");
        }
        if (bank.size() > 0 && bank.channels() != images.channels()) {
            throw new IllegalArgumentException("Patch bank has " + bank.channels() + " channels, images have "
                    + images.channels());
        }
    }

    /** What a resumed training must have been made with: image count, clean share, sizes and the bank's hash. */
    public String settingsKey() {
        return "images " + images.size() + ", clean " + cleanShare + ", fractions " + minFraction + ".." + maxFraction
                + ", bank " + bank.fingerprint();
    }

    /** The card's sentence on how patches were made. */
    public String describe() {
        return String.format(Locale.ROOT, "one pasted patch per image (%.0f %% left clean): uniform noise, 2x2 blocky "
                + "noise, natural crops of other training images%s; square, rectangle (aspect 1:2..2:1) or disc; area "
                + "%.1f-%.1f %% of the image; uniform place", cleanShare * 100,
                bank.size() > 0 ? " or adversarial patches (" + bank.size() + ")" : "", minFraction * 100,
                maxFraction * 100);
    }

    /**
     * The card's entries on these patches: how they were made, how the adversarial bank was made ({@code bank}) and
     * the bank's hash.
     */
    public Map<String, Object> cardFields(String bankDescription) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("patches", describe());
        out.put("adversarial_patches", bankDescription);
        out.put("adversarial_patch_bank_sha256", bank.fingerprint());
        return out;
    }

    /**
     * These patches as a mask network's training examples (SAC's segmenter, Jedi's autoencoder): {@code input} turns n
     * drawn images (n·C·H·W) into the network's input, {@code inputShape} per example; the target is the pasted mask.
     */
    public MaskTraining.Examples examples(Shape inputShape, BiFunction<float[], Integer, float[]> input) {
        return new MaskTraining.Examples() {
            @Override
            public Batch draw(int n, SplittableRandom rng) {
                TrainingPatches.Batch b = TrainingPatches.this.draw(n, rng);
                return new Batch(input.apply(b.images(), n), b.masks());
            }

            @Override
            public Shape inputShape() {
                return inputShape;
            }

            @Override
            public String settingsKey() {
                return TrainingPatches.this.settingsKey();
            }
        };
    }

    /** A batch: images (n·C·H·W) and masks (n·H·W), in [0, 1]. */
    public record Batch(float[] images, float[] masks) {}

    /** n examples drawn from {@code rng}. */
    public Batch draw(int n, SplittableRandom rng) {
        int c = images.channels();
        int h = images.height();
        int w = images.width();
        float[] x = new float[n * c * h * w];
        float[] y = new float[n * h * w];
        for (int i = 0; i < n; i++) {
            float[] img = images.imageFloats(rng.nextInt(images.size()));
            float[] mask = new float[h * w];
            if (rng.nextDouble() >= cleanShare) {
                paste(img, mask, rng);
            }
            System.arraycopy(img, 0, x, i * c * h * w, c * h * w);
            System.arraycopy(mask, 0, y, i * h * w, h * w);
        }
        return new Batch(x, y);
    }

    /** Pastes one patch into {@code img} (C·H·W) and marks it in {@code mask} (H·W). */
    void paste(float[] img, float[] mask, SplittableRandom rng) {
        int h = images.height();
        int w = images.width();
        double area = (minFraction + rng.nextDouble() * (maxFraction - minFraction)) * h * w;
        int shape = rng.nextInt(3); // 0 square, 1 rectangle, 2 disc
        double aspect = shape == 1 ? Math.pow(2, rng.nextDouble() * 2 - 1) : 1;
        int ph = clamp((int) Math.round(Math.sqrt(area * aspect)), h);
        int pw = clamp((int) Math.round(Math.sqrt(area / aspect)), w);
        int top = rng.nextInt(h - ph + 1);
        int left = rng.nextInt(w - pw + 1);
        float[] content = content(ph, pw, rng);
        int c = images.channels();
        for (int a = 0; a < ph; a++) {
            for (int b = 0; b < pw; b++) {
                if (shape == 2 && !inDisc(a, b, ph, pw)) {
                    continue;
                }
                mask[(top + a) * w + left + b] = 1f;
                for (int ch = 0; ch < c; ch++) {
                    img[(ch * h + top + a) * w + left + b] = content[(ch * ph + a) * pw + b];
                }
            }
        }
    }

    /** C·ph·pw values of one of the four content kinds. */
    private float[] content(int ph, int pw, SplittableRandom rng) {
        int c = images.channels();
        int kinds = bank.size() > 0 ? 4 : 3;
        int kind = rng.nextInt(kinds);
        float[] out = new float[c * ph * pw];
        if (kind == 0) {
            for (int j = 0; j < out.length; j++) {
                out[j] = (float) rng.nextDouble();
            }
        } else if (kind == 1) {
            float[] cells = new float[c * (ph / 2 + 1) * (pw / 2 + 1)];
            for (int j = 0; j < cells.length; j++) {
                cells[j] = (float) rng.nextDouble();
            }
            for (int ch = 0; ch < c; ch++) {
                for (int a = 0; a < ph; a++) {
                    for (int b = 0; b < pw; b++) {
                        out[(ch * ph + a) * pw + b] = cells[(ch * (ph / 2 + 1) + a / 2) * (pw / 2 + 1) + b / 2];
                    }
                }
            }
        } else if (kind == 2) {
            naturalCrop(out, ph, pw, rng);
        } else {
            int k = rng.nextInt(bank.size());
            resample(bank.patches().get(k), bank.sides().get(k), out, ph, pw);
        }
        return out;
    }

    /** A ph×pw crop of another training image at a random place (natural content, SAC's hardest negatives). */
    private void naturalCrop(float[] out, int ph, int pw, SplittableRandom rng) {
        int c = images.channels();
        int h = images.height();
        int w = images.width();
        float[] src = images.imageFloats(rng.nextInt(images.size()));
        int top = rng.nextInt(h - ph + 1);
        int left = rng.nextInt(w - pw + 1);
        for (int ch = 0; ch < c; ch++) {
            for (int a = 0; a < ph; a++) {
                System.arraycopy(src, (ch * h + top + a) * w + left, out, (ch * ph + a) * pw, pw);
            }
        }
    }

    /** Nearest-neighbour resampling of a square s×s patch to ph×pw (bank patches come in a few sides only). */
    private void resample(float[] patch, int s, float[] out, int ph, int pw) {
        int c = images.channels();
        for (int ch = 0; ch < c; ch++) {
            for (int a = 0; a < ph; a++) {
                for (int b = 0; b < pw; b++) {
                    out[(ch * ph + a) * pw + b] = patch[(ch * s + a * s / ph) * s + b * s / pw];
                }
            }
        }
    }

    private static boolean inDisc(int a, int b, int ph, int pw) {
        double dy = (a + 0.5) / ph - 0.5;
        double dx = (b + 0.5) / pw - 0.5;
        return dy * dy + dx * dx <= 0.25;
    }

    private static int clamp(int v, int max) {
        return Math.max(2, Math.min(v, max));
    }
}
