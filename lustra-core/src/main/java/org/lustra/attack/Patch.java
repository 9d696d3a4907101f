package org.lustra.attack;

import java.util.SplittableRandom;

/**
 * Square patches on (C, H, W) images: size from an area fraction, placement, and the result type shared by the patch
 * attacks (which return the true patch mask, the ground truth for a patch localiser's IoU/precision/recall).
 */
public final class Patch {
    private Patch() {}

    /** Side of a square covering {@code fraction} of an h×w image: 5 % of 28×28 → 6. */
    public static int side(double fraction, int h, int w) {
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("Invalid patch fraction " + fraction + " (0 < fraction < 1, e.g. 0.05)");
        }
        int s = (int) Math.round(Math.sqrt(fraction * h * w));
        return Math.max(1, Math.min(s, Math.min(h, w)));
    }

    /**
     * What every patch attack starts from: the image shape, the patch side and one placement per image, drawn first
     * from the attack's seed — so LaVAN, GDPA-like and evade-LaVAN put image i's patch at the same place for the
     * same seed. {@code rng} continues after the placements (the patches' initial contents are drawn from it).
     */
    record Setup(int c, int h, int w, int side, Place[] places, SplittableRandom rng) {
        static Setup draw(AttackModel model, int n, double fraction, long seed) {
            int c = (int) model.imageShape().get(0);
            int h = (int) model.imageShape().get(1);
            int w = (int) model.imageShape().get(2);
            int s = Patch.side(fraction, h, w);
            SplittableRandom rng = new SplittableRandom(seed);
            Place[] places = new Place[n];
            for (int i = 0; i < n; i++) {
                places[i] = Place.random(s, h, w, rng);
            }
            return new Setup(c, h, w, s, places, rng);
        }

        /** Values per image (C·H·W). */
        int imageSize() {
            return c * h * w;
        }

        /** Values per patch (C·s·s). */
        int patchSize() {
            return c * side * side;
        }

        /** {@code count} initial patch values, uniform in [0, 1], drawn from {@code rng} after the placements. */
        float[] randomPatches(int count) {
            float[] patches = new float[count];
            for (int j = 0; j < count; j++) {
                patches[j] = (float) rng.nextDouble();
            }
            return patches;
        }

        /** The images {@code todo} of {@code x} with their patches pasted at {@code places}: row t is image todo[t]. */
        float[] pasted(float[] x, int[] todo, float[] patches, Place[] places) {
            int d = imageSize();
            int ps = patchSize();
            float[] cur = new float[todo.length * d];
            for (int t = 0; t < todo.length; t++) {
                System.arraycopy(x, todo[t] * d, cur, t * d, d);
                paste(cur, t, patches, todo[t] * ps, side, places[todo[t]], c, h, w);
            }
            return cur;
        }

        /**
         * One signed-gradient step of image i's patch (clipped to [0, 1]) along the gradient at its pixels in row t
         * of {@code grad}.
         */
        void signStep(float[] patches, int i, float[] grad, int t, Place place, double step) {
            int ps = patchSize();
            float[] g = new float[ps];
            gatherGradient(g, 0, grad, t, side, place, c, h, w);
            float[] one = java.util.Arrays.copyOfRange(patches, i * ps, (i + 1) * ps);
            signAscent(one, g, 0, ps, step);
            System.arraycopy(one, 0, patches, i * ps, ps);
        }

        /** The true patch masks (N·H·W) of the drawn placements. */
        float[] masks() {
            float[] masks = new float[places.length * h * w];
            for (int i = 0; i < places.length; i++) {
                markMask(masks, i, side, places[i], h, w);
            }
            return masks;
        }
    }

    /** A placement: top-left corner. */
    public record Place(int row, int col) {
        static Place random(int side, int h, int w, SplittableRandom rng) {
            return new Place(rng.nextInt(h - side + 1), rng.nextInt(w - side + 1));
        }
    }

    /**
     * The outcome of a patch attack.
     *
     * @param adversarial flat (N·C·H·W) in [0, 1]
     * @param masks flat (N·H·W), 1 inside the pasted patch
     * @param fooled per sample, on the attack's own check
     * @param forwardImages images passed through the target
     */
    public record Result(float[] adversarial, float[] masks, boolean[] fooled, long forwardImages) {
        public double robustAccuracy() {
            int r = 0;
            for (boolean f : fooled) {
                r += f ? 0 : 1;
            }
            return fooled.length == 0 ? 0 : (double) r / fooled.length;
        }
    }

    /** Pastes {@code patch} (C·s·s) into image i of {@code x} at {@code p}; writes into {@code out}. */
    static void paste(float[] out, int i, float[] patch, int pOff, int s, Place p, int c, int h, int w) {
        int d = c * h * w;
        for (int ch = 0; ch < c; ch++) {
            for (int a = 0; a < s; a++) {
                System.arraycopy(patch, pOff + (ch * s + a) * s, out, i * d + (ch * h + p.row() + a) * w + p.col(), s);
            }
        }
    }

    /** Adds the gradient at the patch's pixels of image i to {@code acc} (C·s·s, at accOff). */
    static void gatherGradient(float[] acc, int accOff, float[] grad, int i, int s, Place p, int c, int h, int w) {
        int d = c * h * w;
        for (int ch = 0; ch < c; ch++) {
            for (int a = 0; a < s; a++) {
                int src = i * d + (ch * h + p.row() + a) * w + p.col();
                int dst = accOff + (ch * s + a) * s;
                for (int b = 0; b < s; b++) {
                    acc[dst + b] += grad[src + b];
                }
            }
        }
    }

    static void markMask(float[] masks, int i, int s, Place p, int h, int w) {
        for (int a = 0; a < s; a++) {
            for (int b = 0; b < s; b++) {
                masks[i * h * w + (p.row() + a) * w + p.col() + b] = 1f;
            }
        }
    }

    static void signAscent(float[] patch, float[] grad, int off, int len, double step) {
        for (int j = off; j < off + len; j++) {
            if (Float.isFinite(grad[j])) { // a non-finite gradient entry takes no step (sign(NaN) = NaN)
                patch[j] = (float) Math.max(0, Math.min(1, patch[j] + step * Math.signum(grad[j])));
            }
        }
    }
}
