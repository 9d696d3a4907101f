package org.lustra.defense.classic;

/** Bit-depth reduction (feature squeezing, Xu et al., 2018): x → round(x·(2^b − 1)) / (2^b − 1). */
public final class BitDepth extends PixelPurifier {
    private final int bits;

    public BitDepth(int bits) {
        if (bits < 1 || bits > 8) {
            throw new IllegalArgumentException("Invalid bit depth: " + bits + " (1..8)");
        }
        this.bits = bits;
    }

    @Override
    public String name() {
        return "bit-depth(" + bits + ")";
    }

    @Override
    float[] apply(float[] chw, int c, int h, int w) {
        float levels = (1 << bits) - 1;
        float[] out = new float[chw.length];
        for (int i = 0; i < chw.length; i++) {
            out[i] = Math.round(Math.max(0f, Math.min(1f, chw[i])) * levels) / levels;
        }
        return out;
    }
}
