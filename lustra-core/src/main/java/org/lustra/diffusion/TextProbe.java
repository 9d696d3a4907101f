package org.lustra.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.lustra.data.ImageSet;
import org.lustra.util.Seed;

/**
 * Measures, during training, whether the text pathway learns: v1's prompt-token table ended at about its
 * initialisation (std 0.0216 from 0.02) and its text barely steered it. On a fixed probe batch (half the images carry a
 * natural occluder, every caption names the class and, when present, the occluder) at t = 0.3·T:
 * <ul>
 *   <li>{@code token_table_std}: the prompt-token table's standard deviation;</li>
 *   <li>{@code text_effect}: mean |ε̂(caption) − ε̂(∅)| / mean |ε̂(∅)| — how much the caption changes the prediction;</li>
 *   <li>{@code occluder_focus}: on occluded images, mean |ε̂(caption) − ε̂(∅)| on the occluder's pixels over the same
 *       mean elsewhere — above 1 when the words about the occluder act where the occluder is.</li>
 * </ul>
 */
final class TextProbe {
    private static final int N = 32;

    private final float[] x0;
    private final float[] noise;
    private final float[] occluderMask;
    private final List<String> captions = new ArrayList<>();
    private final int c;
    private final int h;

    TextProbe(ImageSet train, Captions grammar, DiffusionConfig config, Seed seed) {
        SplittableRandom rng = seed.random();
        c = config.channels();
        h = config.size();
        int plane = h * h;
        int size = c * plane;
        x0 = new float[N * size];
        noise = new float[N * size];
        occluderMask = new float[N * plane];
        for (int b = 0; b < N; b++) {
            int index = rng.nextInt(train.size());
            float[] img = train.imageFloats(index);
            float[] before = img.clone();
            Masks.Occluder occ = null;
            if (b % 2 == 1) {
                occ = Masks.occlude(img, train.imageFloats(rng.nextInt(train.size())), c, h, h, rng);
                for (int i = 0; i < size; i++) {
                    if (img[i] != before[i]) {
                        occluderMask[b * plane + i % plane] = 1f;
                    }
                }
            }
            String caption;
            do {
                caption = grammar.sample(train.label(index), occ, rng);
            } while (caption.isEmpty());
            captions.add(caption);
            for (int i = 0; i < size; i++) {
                x0[b * size + i] = img[i] * 2f - 1f;
                noise[b * size + i] = (float) rng.nextGaussian();
            }
        }
    }

    /** The three measurements (see the class comment), computed with the model's current weights. */
    Map<String, Object> measure(DiffusionModel model, NDManager parent) {
        Map<String, Object> out = new LinkedHashMap<>();
        try (NDManager m = parent.newSubManager()) {
            for (Pair<String, Parameter> p : model.net().getParameters()) {
                if (p.getKey().endsWith("tokens")) {
                    NDArray w = p.getValue().getArray();
                    m.tempAttachAll(w);
                    NDArray centred = w.sub(w.mean());
                    out.put("token_table_std", Math.sqrt(centred.square().mean().getFloat()));
                }
            }
            NDArray x = m.create(x0, new Shape(N, c, h, h));
            NDArray eps = m.create(noise, new Shape(N, c, h, h));
            int[] t = new int[N];
            // 30 % of the way to pure noise: the class is still visible, the occluder half drowned
            java.util.Arrays.fill(t, model.schedule().steps() * 3 / 10);
            NDArray xt = model.schedule().addNoise(x, t, eps);
            NDArray mask = DiffusionModel.fullMask(xt);
            NDArray masked = m.zeros(xt.getShape());
            List<String> empty = new ArrayList<>();
            for (int i = 0; i < N; i++) {
                empty.add("");
            }
            NDList both = model.predictNoiseUnder(xt, t, mask, masked, model.context(m, captions, false),
                    model.context(m, empty, false));
            NDArray cond = both.get(0);
            NDArray uncond = both.get(1);
            float[] d = cond.sub(uncond).abs().toFloatArray();
            float[] u = uncond.abs().toFloatArray();
            double sumD = 0;
            double sumU = 0;
            double in = 0;
            double inCount = 0;
            double outside = 0;
            double outCount = 0;
            int plane = h * h;
            for (int i = 0; i < d.length; i++) {
                sumD += d[i];
                sumU += u[i];
                int b = i / (c * plane);
                if (b % 2 == 1) {
                    if (occluderMask[b * plane + i % plane] > 0) {
                        in += d[i];
                        inCount++;
                    } else {
                        outside += d[i];
                        outCount++;
                    }
                }
            }
            out.put("text_effect", sumD / Math.max(1e-12, sumU));
            out.put("occluder_focus", (in / Math.max(1, inCount)) / Math.max(1e-12, outside / Math.max(1, outCount)));
        }
        return out;
    }

}
