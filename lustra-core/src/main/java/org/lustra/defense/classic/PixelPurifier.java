package org.lustra.defense.classic;

import ai.djl.ndarray.NDArray;
import java.util.EnumSet;
import java.util.Set;
import org.lustra.defense.GradientMode;
import org.lustra.defense.Purifier;

/**
 * Base of the classic, deterministic, non-differentiable input transformations: they work image by image on CHW floats
 * in Java, and an adaptive attack passes them with BPDA (identity backward, Athalye et al. 2018).
 */
abstract class PixelPurifier implements Purifier {

    @Override
    public Set<GradientMode> gradientModes() {
        return EnumSet.of(GradientMode.BPDA);
    }

    @Override
    public boolean randomized() {
        return false;
    }

    /** Transforms one image (C×H×W floats in [0, 1]); returns a new array. */
    abstract float[] apply(float[] chw, int c, int h, int w);

    @Override
    public NDArray purify(NDArray x, long seed) {
        long n = x.getShape().get(0);
        int c = (int) x.getShape().get(1);
        int h = (int) x.getShape().get(2);
        int w = (int) x.getShape().get(3);
        int per = c * h * w;
        float[] all = x.toFloatArray();
        float[] out = new float[all.length];
        for (int i = 0; i < n; i++) {
            float[] img = java.util.Arrays.copyOfRange(all, i * per, (i + 1) * per);
            System.arraycopy(apply(img, c, h, w), 0, out, i * per, per);
        }
        return x.getManager().create(out, x.getShape());
    }
}
