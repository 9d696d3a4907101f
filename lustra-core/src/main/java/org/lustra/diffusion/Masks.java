package org.lustra.diffusion;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Random inpainting masks for training (1 = regenerate): axis-aligned rectangles and free-form blobs covering a
 * target fraction of the image (SPEC §3: 2–40 %), plus natural occluders pasted onto images (a crop of another
 * image or a flat shape) — fair training data, never adversarial patches.
 */
public final class Masks {
    private Masks() {}

    /** A rectangle or a blob covering about {@code fraction} of an h × w image, as floats 0/1. */
    public static float[] random(int h, int w, double fraction, SplittableRandom rng) {
        return rng.nextBoolean() ? rectangle(h, w, fraction, rng) : blob(h, w, fraction, rng);
    }

    /** A uniformly drawn fraction in [2 %, 40 %]. */
    public static double fraction(SplittableRandom rng) {
        return 0.02 + 0.38 * rng.nextDouble();
    }

    public static float[] rectangle(int h, int w, double fraction, SplittableRandom rng) {
        double area = Math.max(1, fraction * h * w);
        double aspect = Math.exp((rng.nextDouble() - 0.5) * Math.log(4)); // 1:2 .. 2:1
        int rh = clamp((int) Math.round(Math.sqrt(area * aspect)), 1, h);
        int rw = clamp((int) Math.round(area / rh), 1, w);
        int y0 = rng.nextInt(h - rh + 1);
        int x0 = rng.nextInt(w - rw + 1);
        float[] m = new float[h * w];
        for (int y = y0; y < y0 + rh; y++) {
            for (int x = x0; x < x0 + rw; x++) {
                m[y * w + x] = 1f;
            }
        }
        return m;
    }

    /** A free-form blob: a random walk of discs until the target area is covered. */
    public static float[] blob(int h, int w, double fraction, SplittableRandom rng) {
        float[] m = new float[h * w];
        int target = (int) Math.max(1, Math.round(fraction * h * w));
        double cy = rng.nextDouble() * h;
        double cx = rng.nextDouble() * w;
        double r = Math.max(1.0, Math.sqrt(target / Math.PI) / 2);
        int covered = 0;
        for (int step = 0; step < 10_000 && covered < target; step++) {
            for (int y = (int) Math.floor(cy - r); y <= (int) Math.ceil(cy + r); y++) {
                for (int x = (int) Math.floor(cx - r); x <= (int) Math.ceil(cx + r); x++) {
                    if (y >= 0 && y < h && x >= 0 && x < w && (y - cy) * (y - cy) + (x - cx) * (x - cx) <= r * r
                            && m[y * w + x] == 0f) {
                        m[y * w + x] = 1f;
                        if (++covered >= target) {
                            return m;
                        }
                    }
                }
            }
            double angle = rng.nextDouble() * 2 * Math.PI;
            cy = Math.max(0, Math.min(h - 1, cy + Math.sin(angle) * r));
            cx = Math.max(0, Math.min(w - 1, cx + Math.cos(angle) * r));
        }
        return m;
    }

    /** What a natural occluder looks like, and the caption words that describe it. */
    public enum Occluder {
        /** a square crop of another garment image */
        PIECE("patch", "piece"),
        /** a flat grey square */
        SQUARE("sticker", "block"),
        /** a flat grey disc */
        DISC("stain", "spot");

        private final String[] words;

        Occluder(String... words) {
            this.words = words;
        }

        /** Caption nouns for this occluder ("patch", "sticker", …). */
        public List<String> words() {
            return List.of(words);
        }
    }

    /**
     * Pastes a natural occluder into {@code img} (C×H×W floats in [0, 1], modified in place): with equal odds a square
     * crop of {@code donor} (another real image) or a flat grey square/disc. Size 3–9 px at 28×28, scaled with H.
     * Returns which kind was pasted, so the caption can name it.
     */
    public static Occluder occlude(float[] img, float[] donor, int c, int h, int w, SplittableRandom rng) {
        int lo = Math.max(2, h * 3 / 28);
        int hi = Math.max(lo + 1, h * 9 / 28);
        int s = lo + rng.nextInt(hi - lo + 1);
        int y0 = rng.nextInt(h - s + 1);
        int x0 = rng.nextInt(w - s + 1);
        boolean crop = rng.nextBoolean();
        int sy = rng.nextInt(h - s + 1);
        int sx = rng.nextInt(w - s + 1);
        boolean disc = rng.nextBoolean();
        float level = (float) rng.nextDouble();
        double rad = s / 2.0;
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < s; y++) {
                for (int x = 0; x < s; x++) {
                    int dst = (ch * h + y0 + y) * w + x0 + x;
                    if (crop) {
                        img[dst] = donor[(ch * h + sy + y) * w + sx + x];
                    } else if (!disc || (y + 0.5 - rad) * (y + 0.5 - rad) + (x + 0.5 - rad) * (x + 0.5 - rad)
                            <= rad * rad) {
                        img[dst] = level;
                    }
                }
            }
        }
        return crop ? Occluder.PIECE : disc ? Occluder.DISC : Occluder.SQUARE;
    }

    private static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
