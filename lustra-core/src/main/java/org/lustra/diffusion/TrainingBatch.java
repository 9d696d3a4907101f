package org.lustra.diffusion;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.lustra.data.ImageSet;
import org.lustra.util.Seed;

/**
 * One step's batch of {@link DiffusionTraining}: images in [−1, 1], their inpainting masks (1 = to generate), noise,
 * timesteps and captions. Everything comes from the step's own generator, Seed.of(seed).child("diffusion-training")
 * .child(step), in a fixed order (per image: index, flip, occluder, caption, pixels and noise, mask, timestep), so a
 * resumed run draws exactly what an uninterrupted one would — do not reorder the draws.
 *
 * @param x0 n × c × h × h images scaled to [−1, 1]
 * @param mask n × h × h, all ones on a full-mask (plain denoising) step
 * @param noise n × c × h × h standard normal
 * @param t n timesteps, uniform in [0, timesteps)
 * @param prompts n captions
 */
record TrainingBatch(int n, int channels, int size, float[] x0, float[] mask, float[] noise, int[] t,
        List<String> prompts) {

    /** Even steps are full-mask batches, odd steps inpainting batches with masks covering 2–40 %. */
    static TrainingBatch draw(ImageSet train, Captions captions, DiffusionTraining.Options opt, DiffusionConfig config,
            int timesteps, long step) {
        SplittableRandom rng = Seed.of(opt.seed()).child("diffusion-training").child(step).random();
        boolean inpaint = step % 2 == 1;
        int n = opt.batchSize();
        int c = config.channels();
        int h = config.size();
        int plane = h * h;
        int imageSize = c * plane;
        float[] x0 = new float[n * imageSize];
        float[] mask = new float[n * plane];
        float[] noise = new float[n * imageSize];
        int[] t = new int[n];
        List<String> prompts = new ArrayList<>(n);
        for (int b = 0; b < n; b++) {
            int index = rng.nextInt(train.size());
            float[] img = train.imageFloats(index);
            if (opt.flip() && rng.nextBoolean()) {
                flip(img, c, h);
            }
            int label = train.label(index);
            boolean occluded = rng.nextDouble() < opt.occluderProbability();
            Masks.Occluder occluder = occluded
                    ? Masks.occlude(img, train.imageFloats(rng.nextInt(train.size())), c, h, h, rng)
                    : null;
            prompts.add(captions.sample(label, occluder, rng));
            for (int i = 0; i < imageSize; i++) {
                x0[b * imageSize + i] = img[i] * 2f - 1f;
                noise[b * imageSize + i] = (float) rng.nextGaussian();
            }
            float[] m = inpaint ? Masks.random(h, h, Masks.fraction(rng), rng) : ones(plane);
            System.arraycopy(m, 0, mask, b * plane, plane);
            t[b] = rng.nextInt(timesteps);
        }
        return new TrainingBatch(n, c, h, x0, mask, noise, t, List.copyOf(prompts));
    }

    private static float[] ones(int n) {
        float[] f = new float[n];
        Arrays.fill(f, 1f);
        return f;
    }

    /** Mirrors each row of every channel in place. */
    private static void flip(float[] img, int c, int h) {
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                int row = (ch * h + y) * h;
                for (int x = 0; x < h / 2; x++) {
                    float tmp = img[row + x];
                    img[row + x] = img[row + h - 1 - x];
                    img[row + h - 1 - x] = tmp;
                }
            }
        }
    }
}
