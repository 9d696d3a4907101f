package org.lustra.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * Which patches of each image a masked autoencoder hides (He et al., 2022): the same number per image, so the visible
 * tokens of a batch form one (N, L_v, D) tensor. Immutable. The arrays it makes for the engine are engine-owned
 * ({@link Scalars#owned}): autograd saves them for the backward pass of the products they enter.
 */
public final class PatchMask {
    private final boolean[][] masked;
    private final int patches;
    private final int maskedCount;

    private PatchMask(boolean[][] masked, int patches, int maskedCount) {
        this.masked = masked;
        this.patches = patches;
        this.maskedCount = maskedCount;
    }

    /**
     * Hides exactly round(ratio · patches) patches of each of n images, a uniformly random subset per image drawn from
     * {@code rng} (partial Fisher–Yates), so the same generator state gives the same mask.
     */
    public static PatchMask random(int n, int patches, double ratio, SplittableRandom rng) {
        if (n < 1 || patches < 1 || !(ratio >= 0 && ratio < 1)) {
            throw new IllegalArgumentException("Invalid patch mask: " + n + " images, " + patches + " patches, ratio "
                    + ratio + " (ratio must be in [0, 1))");
        }
        int k = (int) Math.round(ratio * patches);
        boolean[][] m = new boolean[n][patches];
        int[] order = new int[patches];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < patches; j++) {
                order[j] = j;
            }
            for (int j = 0; j < k; j++) {
                int r = j + rng.nextInt(patches - j);
                int t = order[j];
                order[j] = order[r];
                order[r] = t;
                m[i][order[j]] = true;
            }
        }
        return new PatchMask(m, patches, k);
    }

    /** A given mask (true = hidden); every row must hide the same number of patches, and at least one stays visible. */
    public static PatchMask of(boolean[][] masked) {
        int patches = masked[0].length;
        int count = -1;
        boolean[][] copy = new boolean[masked.length][];
        for (int i = 0; i < masked.length; i++) {
            copy[i] = masked[i].clone();
            int c = 0;
            for (boolean b : copy[i]) {
                c += b ? 1 : 0;
            }
            if (copy[i].length != patches || (count >= 0 && c != count) || c >= patches) {
                throw new IllegalArgumentException("Invalid patch mask: row " + i + " hides " + c + " of "
                        + copy[i].length + " patches (every row must hide the same number, fewer than all)");
            }
            count = c;
        }
        return new PatchMask(copy, patches, count);
    }

    /** The masks of images [from, to). */
    public PatchMask rows(int from, int to) {
        return new PatchMask(java.util.Arrays.copyOfRange(masked, from, to), patches, maskedCount);
    }

    public int images() {
        return masked.length;
    }

    public int patches() {
        return patches;
    }

    /** Hidden patches per image. */
    public int maskedCount() {
        return maskedCount;
    }

    public int visibleCount() {
        return patches - maskedCount;
    }

    public boolean masked(int image, int patch) {
        return masked[image][patch];
    }

    /**
     * The selection matrices S (N, L_v, L): S[i, r, j] = 1 when the r-th visible patch of image i (in patch order) is
     * patch j. S · tokens keeps the visible tokens; Sᵀ · visible puts them back with zeros at the hidden places. A
     * product with a 0/1 matrix is exact and differentiable, and at L ≤ a few hundred it costs less than the blocks.
     */
    public NDArray selection(NDManager manager) {
        int lv = visibleCount();
        float[] s = new float[masked.length * lv * patches];
        for (int i = 0; i < masked.length; i++) {
            int r = 0;
            for (int j = 0; j < patches; j++) {
                if (!masked[i][j]) {
                    s[(i * lv + r) * patches + j] = 1f;
                    r++;
                }
            }
        }
        return Scalars.owned(manager, s, new Shape(masked.length, lv, patches));
    }

    /** (N, L, 1): 1 at hidden patches, 0 at visible ones. */
    public NDArray tokenMask(NDManager manager) {
        float[] m = new float[masked.length * patches];
        for (int i = 0; i < masked.length; i++) {
            for (int j = 0; j < patches; j++) {
                m[i * patches + j] = masked[i][j] ? 1f : 0f;
            }
        }
        return Scalars.owned(manager, m, new Shape(masked.length, patches, 1));
    }

    /**
     * (N, 1, H, W): 1 on the pixels of hidden patches, for patch size p on an H×W image whose patches are numbered
     * row by row (the order of {@link MaskedAutoencoder#patchify}).
     */
    public NDArray pixelMask(NDManager manager, int height, int width, int p) {
        int gw = width / p;
        if (height % p != 0 || width % p != 0 || (height / p) * gw != patches) {
            throw new IllegalArgumentException("A " + height + "x" + width + " image with patch " + p + " does not have "
                    + patches + " patches");
        }
        float[] m = new float[masked.length * height * width];
        for (int i = 0; i < masked.length; i++) {
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    m[(i * height + y) * width + x] = masked[i][(y / p) * gw + x / p] ? 1f : 0f;
                }
            }
        }
        return Scalars.owned(manager, m, new Shape(masked.length, 1, height, width));
    }

    @Override
    public String toString() {
        return "PatchMask[" + masked.length + " images, " + maskedCount + "/" + patches + " patches hidden]";
    }
}
