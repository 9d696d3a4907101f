package org.lustra.defense.sac;

import java.util.List;

/**
 * SAC's shape completion (Liu et al., "Segment and Complete", CVPR 2022, §3.3), for square patches: the segmenter's
 * coarse mask p̂ is replaced by the union of every candidate square s whose Hamming distance to p̂ is at most γ,
 * <pre>  SC(p̂) = ∪ { s ∈ S : d_H(s, p̂) ≤ γ·|s| },   d_H(s, p̂) = |s| + |p̂| − 2·|s ∩ p̂|,</pre>
 * where S holds the squares of the expected patch sides at every position. This is the paper's guarantee made
 * concrete: if the true patch P is in S and the segmenter's output is within γ·|P| of it, P itself is a candidate, so
 * the completed mask covers the whole patch however the segmenter's errors are placed. The union (not only the nearest
 * square, which the shorthand names) is what gives that guarantee; it grows with γ.
 *
 * <p>Differences from the paper, on purpose: γ is relative to each candidate's area (one γ then serves all sides;
 * the paper states one absolute γ for its fixed patch sizes), and when no candidate is within γ (a blob far from every
 * expected square) the coarse mask is returned unchanged instead of nothing, so the defence never removes less than
 * its segmenter found. An empty coarse mask stays empty (no square is within γ &lt; 1 of nothing).
 *
 * <p>Cost: one integral image and O(H·W) box sums per side.
 */
public final class ShapeCompletion {

    /**
     * The completed mask and how many candidate squares formed it (0 = fallback to the coarse mask).
     *
     * @param mask H×W, row-major, true = remove
     * @param matches candidate squares within γ
     */
    public record Result(boolean[] mask, int matches) {}

    private ShapeCompletion() {}

    /**
     * Completes {@code coarse} (H×W, row-major) with squares of {@code sides} (each 1..min(H, W)) within relative
     * Hamming distance {@code gamma} (0 ≤ γ &lt; 1).
     */
    public static Result complete(boolean[] coarse, int h, int w, List<Integer> sides, double gamma) {
        if (coarse.length != h * w || !(gamma >= 0 && gamma < 1) || sides.isEmpty()) {
            throw new IllegalArgumentException("Invalid shape completion: mask of " + coarse.length + " pixels for "
                    + h + "×" + w + ", gamma " + gamma + " (0 ≤ gamma < 1), sides " + sides + " (at least one)");
        }
        long[] integral = integral(coarse, h, w);
        long total = integral[h * (w + 1) + w];
        int[] diff = new int[(h + 1) * (w + 1)];
        int matches = 0;
        for (int k : sides) {
            if (k < 1 || k > Math.min(h, w)) {
                throw new IllegalArgumentException("Invalid square side " + k + " for a " + h + "×" + w + " image (1.."
                        + Math.min(h, w) + ")");
            }
            double limit = gamma * k * k;
            for (int r = 0; r + k <= h; r++) {
                for (int c = 0; c + k <= w; c++) {
                    long inside = box(integral, w, r, c, k);
                    if ((long) k * k + total - 2 * inside <= limit) {
                        matches++;
                        diff[r * (w + 1) + c]++;
                        diff[r * (w + 1) + c + k]--;
                        diff[(r + k) * (w + 1) + c]--;
                        diff[(r + k) * (w + 1) + c + k]++;
                    }
                }
            }
        }
        if (matches == 0) {
            return new Result(coarse.clone(), 0);
        }
        return new Result(union(diff, h, w), matches);
    }

    /** I[(y)·(w+1) + x] = number of set pixels above and left of (y, x). */
    private static long[] integral(boolean[] m, int h, int w) {
        long[] s = new long[(h + 1) * (w + 1)];
        for (int y = 0; y < h; y++) {
            long row = 0;
            for (int x = 0; x < w; x++) {
                row += m[y * w + x] ? 1 : 0;
                s[(y + 1) * (w + 1) + x + 1] = s[y * (w + 1) + x + 1] + row;
            }
        }
        return s;
    }

    private static long box(long[] s, int w, int r, int c, int k) {
        int stride = w + 1;
        return s[(r + k) * stride + c + k] - s[r * stride + c + k] - s[(r + k) * stride + c] + s[r * stride + c];
    }

    /** The pixels covered by at least one square, from the 2-D difference array of their corners. */
    private static boolean[] union(int[] diff, int h, int w) {
        int stride = w + 1;
        int[] cover = new int[(h + 1) * stride];
        boolean[] out = new boolean[h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int up = y > 0 ? cover[(y - 1) * stride + x] : 0;
                int left = x > 0 ? cover[y * stride + x - 1] : 0;
                int diag = y > 0 && x > 0 ? cover[(y - 1) * stride + x - 1] : 0;
                cover[y * stride + x] = diff[y * stride + x] + up + left - diag;
                out[y * w + x] = cover[y * stride + x] > 0;
            }
        }
        return out;
    }
}
