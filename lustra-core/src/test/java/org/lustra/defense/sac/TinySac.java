package org.lustra.defense.sac;

import ai.djl.ndarray.NDManager;
import java.util.SplittableRandom;
import org.lustra.data.ImageSet;
import org.lustra.nn.MaskUNet;

/** Tiny 16×16 grayscale images and segmenters for tests of the SAC-like defence. */
public final class TinySac {
    /** Width 8 (every convolution input a multiple of ConvolutionCheck.CHANNEL_BLOCK), one pooling level. */
    public static final PatchSegmenter.Config CONFIG = new PatchSegmenter.Config(new MaskUNet.Config(1, 8, 1), 16);

    private TinySac() {}

    /** n smooth 16×16 images: a horizontal ramp plus a bright bar whose row depends on i. */
    public static ImageSet images(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] px = new byte[n * 256];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            int bar = 2 + r.nextInt(12);
            for (int p = 0; p < 256; p++) {
                int v = (p % 16) * 6 + (Math.abs(p / 16 - bar) <= 1 ? 120 : 20);
                px[i * 256 + p] = (byte) v;
            }
        }
        return new ImageSet(px, y, 1, 16, 16);
    }

    public static PatchSegmenter segmenter(long seed) {
        return PatchSegmenter.create(CONFIG, NDManager.newBaseManager(), seed);
    }
}
