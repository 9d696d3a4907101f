package org.lustra.defense.classic;

import java.util.PriorityQueue;

/**
 * Inpainting by the fast marching method (A. Telea, "An Image Inpainting Technique Based on the Fast Marching Method",
 * Journal of Graphics Tools 9(1), 2004) — the algorithm behind OpenCV's {@code INPAINT_TELEA}, written here in plain
 * Java so that Lustra needs no native image library.
 *
 * <p>The hole is filled from its boundary inwards in the order of the arrival time T of a front that starts on the
 * boundary (T solves |∇T| = 1, T = 0 outside the hole). A pixel p is set to a weighted mean, over the known or already
 * filled pixels q within {@code radius}, of the first-order extrapolation I(q) + ∇I(q)·(p − q), with weight
 * dir·dst·lev: dir = |cos| of the angle between p − q and ∇T(p) (prefer pixels along the normal of the front),
 * dst = 1/|p − q|² (prefer near pixels), lev = 1/(1 + |T(p) − T(q)|) (prefer pixels near p's level set).
 * Because every weight depends on the mask only, the fill is a linear map of the known pixels for a fixed mask.
 *
 * <p>Pixels outside the mask are returned bit for bit; filled values are clipped to [0, 1].
 */
public final class TeleaInpainting {
    private static final byte KNOWN = 0;
    private static final byte BAND = 1;
    private static final byte INSIDE = 2;
    private static final double INF = Double.POSITIVE_INFINITY;

    private final int radius;

    /** @param radius neighbourhood radius ε in pixels (OpenCV's usual 3; 1..64) */
    public TeleaInpainting(int radius) {
        if (radius < 1 || radius > 64) {
            throw new IllegalArgumentException("Invalid Telea radius: " + radius + " (1..64)");
        }
        this.radius = radius;
    }

    public int radius() {
        return radius;
    }

    /** One march over one image. */
    private record Node(double t, int p) {}

    /**
     * Fills the pixels where {@code mask} is true (H×W, shared by all channels) of one image (C×H×W floats in
     * [0, 1]); returns a new array.
     */
    public float[] inpaint(float[] chw, int c, int h, int w, boolean[] mask) {
        if (chw.length != c * h * w || mask.length != h * w) {
            throw new IllegalArgumentException("Invalid inpainting input: " + chw.length + " values and a mask of "
                    + mask.length + " for " + c + "×" + h + "×" + w);
        }
        float[] out = chw.clone();
        byte[] flag = new byte[h * w];
        double[] t = new double[h * w];
        PriorityQueue<Node> band = new PriorityQueue<>((a, b) -> Double.compare(a.t(), b.t()));
        for (int p = 0; p < h * w; p++) {
            flag[p] = mask[p] ? INSIDE : KNOWN;
            t[p] = mask[p] ? INF : 0;
        }
        for (int p = 0; p < h * w; p++) {
            if (!mask[p] && touchesHole(p, h, w, mask)) {
                flag[p] = BAND;
                band.add(new Node(0, p));
            }
        }
        while (!band.isEmpty()) {
            Node n = band.poll();
            int p = n.p();
            if (flag[p] == KNOWN || n.t() != t[p]) {
                continue; // a stale entry: p was finalised, or re-queued with a smaller T
            }
            flag[p] = KNOWN;
            int y = p / w;
            int x = p % w;
            int[][] nb = {{y - 1, x}, {y + 1, x}, {y, x - 1}, {y, x + 1}};
            for (int[] q : nb) {
                if (q[0] < 0 || q[0] >= h || q[1] < 0 || q[1] >= w || flag[q[0] * w + q[1]] == KNOWN) {
                    continue;
                }
                int qi = q[0] * w + q[1];
                double tq = arrival(q[0], q[1], h, w, flag, t);
                if (flag[qi] == INSIDE) {
                    t[qi] = tq;
                    // still INSIDE while filled: its own stale value must not enter its neighbours' ∇I
                    fill(out, c, h, w, q[0], q[1], flag, t);
                    flag[qi] = BAND;
                } else if (tq < t[qi]) {
                    t[qi] = tq;
                }
                band.add(new Node(t[qi], qi));
            }
        }
        fillUnreached(out, c, h, w, flag);
        return out;
    }

    private static boolean touchesHole(int p, int h, int w, boolean[] mask) {
        int y = p / w;
        int x = p % w;
        return (y > 0 && mask[p - w]) || (y + 1 < h && mask[p + w]) || (x > 0 && mask[p - 1])
                || (x + 1 < w && mask[p + 1]);
    }

    /** T at (y, x): the smallest upwind solution of the eikonal equation over the four quadrants. */
    private static double arrival(int y, int x, int h, int w, byte[] flag, double[] t) {
        double best = INF;
        for (int dy : new int[] {-1, 1}) {
            for (int dx : new int[] {-1, 1}) {
                best = Math.min(best, solve(known(y + dy, x, h, w, flag, t), known(y, x + dx, h, w, flag, t)));
            }
        }
        return best;
    }

    /** T of a pixel whose arrival time is set (not inside the hole), else ∞. */
    private static double known(int y, int x, int h, int w, byte[] flag, double[] t) {
        return y < 0 || y >= h || x < 0 || x >= w || flag[y * w + x] == INSIDE ? INF : t[y * w + x];
    }

    /** Solves (s − a)² + (s − b)² = 1 for the larger root, or one-sided s = min + 1 (Telea 2004, §3). */
    private static double solve(double a, double b) {
        if (a == INF && b == INF) {
            return INF;
        }
        double d = a - b;
        if (a == INF || b == INF || Math.abs(d) >= 1) {
            return Math.min(a, b) + 1;
        }
        return (a + b + Math.sqrt(2 - d * d)) / 2;
    }

    /** Telea's estimate (§2–3) at (y, x) from the known or filled pixels within the radius. */
    private void fill(float[] img, int c, int h, int w, int y, int x, byte[] flag, double[] t) {
        int p = y * w + x;
        double gtx = centralDifference(t, flag, h, w, y, x, 0, 1);
        double gty = centralDifference(t, flag, h, w, y, x, 1, 0);
        double gtNorm = Math.hypot(gtx, gty);
        for (int ch = 0; ch < c; ch++) {
            int base = ch * h * w;
            double acc = 0;
            double sum = 0;
            for (int yy = Math.max(0, y - radius); yy <= Math.min(h - 1, y + radius); yy++) {
                for (int xx = Math.max(0, x - radius); xx <= Math.min(w - 1, x + radius); xx++) {
                    int q = yy * w + xx;
                    int vy = y - yy;
                    int vx = x - xx;
                    int len2 = vx * vx + vy * vy;
                    if (q == p || flag[q] == INSIDE || len2 > radius * radius) {
                        continue;
                    }
                    double len = Math.sqrt(len2);
                    double dir = gtNorm > 0 ? Math.abs(vx * gtx + vy * gty) / (len * gtNorm) : 1;
                    double weight = Math.max(dir, 1e-6) / len2 / (1 + Math.abs(t[q] - t[p]));
                    double gix = imageDifference(img, base, flag, h, w, yy, xx, 0, 1);
                    double giy = imageDifference(img, base, flag, h, w, yy, xx, 1, 0);
                    acc += weight * (img[base + q] + gix * vx + giy * vy);
                    sum += weight;
                }
            }
            if (sum > 0) {
                img[base + p] = (float) Math.max(0, Math.min(1, acc / sum));
            }
        }
    }

    /** ∂T along (dy, dx) at (y, x) from neighbours with a set T: central, one-sided, or 0. */
    private static double centralDifference(double[] t, byte[] flag, int h, int w, int y, int x, int dy, int dx) {
        double before = known(y - dy, x - dx, h, w, flag, t);
        double after = known(y + dy, x + dx, h, w, flag, t);
        double here = t[y * w + x];
        if (before != INF && after != INF) {
            return (after - before) / 2;
        }
        if (after != INF) {
            return after - here;
        }
        return before != INF ? here - before : 0;
    }

    /** ∂I along (dy, dx) at a known pixel from known or filled neighbours: central, one-sided, or 0. */
    private static double imageDifference(float[] img, int base, byte[] flag, int h, int w, int y, int x, int dy,
            int dx) {
        int yb = y - dy;
        int xb = x - dx;
        int ya = y + dy;
        int xa = x + dx;
        boolean hasBefore = yb >= 0 && xb >= 0 && flag[yb * w + xb] != INSIDE;
        boolean hasAfter = ya < h && xa < w && flag[ya * w + xa] != INSIDE;
        float here = img[base + y * w + x];
        if (hasBefore && hasAfter) {
            return (img[base + ya * w + xa] - img[base + yb * w + xb]) / 2.0;
        }
        if (hasAfter) {
            return img[base + ya * w + xa] - here;
        }
        return hasBefore ? here - img[base + yb * w + xb] : 0;
    }

    /** A hole with no known pixel around it (the mask covers the image) gets the mean of the known pixels, if any. */
    private static void fillUnreached(float[] img, int c, int h, int w, byte[] flag) {
        for (int ch = 0; ch < c; ch++) {
            int base = ch * h * w;
            double sum = 0;
            int known = 0;
            boolean any = false;
            for (int p = 0; p < h * w; p++) {
                if (flag[p] == INSIDE) {
                    any = true;
                } else {
                    sum += img[base + p];
                    known++;
                }
            }
            if (!any || known == 0) {
                return;
            }
            for (int p = 0; p < h * w; p++) {
                if (flag[p] == INSIDE) {
                    img[base + p] = (float) (sum / known);
                }
            }
        }
    }
}
