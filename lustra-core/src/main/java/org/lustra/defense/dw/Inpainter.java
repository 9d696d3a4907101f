package org.lustra.defense.dw;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Collections;
import org.lustra.defense.classic.TeleaInpainting;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSource;
import org.lustra.diffusion.Sampler;

/** How a masked region is filled back in. No gradient passes an inpainter (defences that use one declare BPDA). */
public interface Inpainter {

    String name();

    /** True when the fill depends on the seed. */
    boolean randomized();

    /**
     * Fills the pixels where {@code mask} (N, 1, H, W; 1 = fill) is set in {@code x} (N, C, H, W in [0, 1]); the
     * other pixels are returned as they are. Owned by {@code x}'s manager.
     */
    NDArray inpaint(NDArray x, NDArray mask, long seed);

    /**
     * x·(1 − m) + fill·m for a 0/1 mask m: every unmasked pixel is x bit for bit, whatever the inpainter returns
     * there. The one composite DW, Jedi and SAC use. Owned by {@code x}'s manager.
     */
    static NDArray composite(NDArray x, NDArray mask, NDArray fill) {
        return x.mul(mask.sub(1f).neg()).add(fill.mul(mask));
    }

    /** Telea's fast-marching inpainting (deterministic, in Java, image by image). */
    static Inpainter telea(int radius) {
        return new Telea(new TeleaInpainting(radius));
    }

    /**
     * Repainting by the shipped diffusion model (Lustra's inpainting UNet, DDIM with {@code steps} steps from pure
     * noise, no text: Hayes' method has no prompt, so the fill is unconditional).
     */
    static Inpainter diffusion(DiffusionModel model, int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("Invalid diffusion inpainting steps: " + steps + " (≥ 1)");
        }
        return new Diffusion(model, steps);
    }

    /** {@link TeleaInpainting} on each image of the batch. */
    record Telea(TeleaInpainting telea) implements Inpainter {
        @Override
        public String name() {
            return "telea r=" + telea.radius();
        }

        @Override
        public boolean randomized() {
            return false;
        }

        @Override
        public NDArray inpaint(NDArray x, NDArray mask, long seed) {
            int n = (int) x.getShape().get(0);
            int c = (int) x.getShape().get(1);
            int h = (int) x.getShape().get(2);
            int w = (int) x.getShape().get(3);
            float[] all = x.toFloatArray();
            float[] m = mask.toFloatArray();
            float[] out = new float[all.length];
            int per = c * h * w;
            for (int i = 0; i < n; i++) {
                boolean[] hole = new boolean[h * w];
                for (int p = 0; p < h * w; p++) {
                    hole[p] = m[i * h * w + p] > 0.5f;
                }
                float[] img = java.util.Arrays.copyOfRange(all, i * per, (i + 1) * per);
                System.arraycopy(telea.inpaint(img, c, h, w, hole), 0, out, i * per, per);
            }
            return x.getManager().create(out, x.getShape());
        }
    }

    /** {@link Sampler#inpaint} with an empty prompt and no guidance (one UNet row per image). */
    record Diffusion(DiffusionModel model, int steps) implements Inpainter {
        @Override
        public String name() {
            return "diffusion ddim" + steps;
        }

        @Override
        public boolean randomized() {
            return true;
        }

        @Override
        public NDArray inpaint(NDArray x, NDArray mask, long seed) {
            int n = (int) x.getShape().get(0);
            try (NDManager s = x.getManager().newSubManager()) {
                NDArray in = x.stopGradient();
                NDArray m = mask.stopGradient();
                in.attach(s);
                m.attach(s);
                NDArray out = Sampler.inpaint(model, s, in, m, Collections.nCopies(n, ""),
                        Sampler.Options.ddim(steps, 1.0), new NoiseSource(seed));
                out.attach(x.getManager());
                return out;
            }
        }
    }
}
