package org.lustra.defense.learned;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.List;
import java.util.SplittableRandom;
import org.lustra.data.ImageSet;
import org.lustra.defense.Purifier;
import org.lustra.defense.disco.DiscoNetwork;
import org.lustra.defense.maep.MaepNetwork;
import org.lustra.model.Architecture;
import org.lustra.model.NetClassifier;
import org.lustra.nn.AdamW;
import org.lustra.nn.LocalImplicitNet;
import org.lustra.nn.MaskedAutoencoder;

/** Tiny purifier networks, images and classifiers on 8×8 grayscale data, for tests of MAEP and DISCO. */
public final class TinyPurifiers {
    /** 16 patches of 2×2; encoder 16 wide, 1 block; decoder 16 wide, 1 block; mask ratio 0.5. */
    public static final MaepNetwork.Config MAEP = new MaepNetwork.Config(
            new MaskedAutoencoder.Config(1, 8, 2, 16, 1, 2, 32, 16, 1, 2), 0.5);
    /** Width 8, 2 residual blocks, MLP 16 × 1. */
    public static final DiscoNetwork.Config DISCO = new DiscoNetwork.Config(new LocalImplicitNet.Config(1, 8, 2, 16, 1),
            8);
    public static final List<String> CLASSES = List.of("a", "b", "c");

    private TinyPurifiers() {}

    /** n 8×8 images of class i % 3: a bright row at 2·class + 1 over a noisy dark background. */
    public static ImageSet images(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] px = new byte[n * 64];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
            for (int p = 0; p < 64; p++) {
                px[i * 64 + p] = (byte) (p / 8 == 2 * y[i] + 1 ? 200 + r.nextInt(40) : r.nextInt(60));
            }
        }
        return new ImageSet(px, y, 1, 8, 8);
    }

    /** A randomly initialised 8×8, 3-class ResNet (frozen, as every loaded classifier). */
    public static NetClassifier classifier(long seed) {
        Architecture arch = Architecture.resnet(1, 8, 3, new int[] {4, 8}, 1);
        NDManager m = NDManager.newBaseManager();
        return new NetClassifier("tiny-resnet", arch.initialize(m, seed), m, CLASSES);
    }

    /** A smooth direction on (n, 1, 8, 8): a low-frequency cosine pattern, unit ℓ2 norm, in {@code m}. */
    public static NDArray smoothDirection(NDManager m, int n) {
        float[] v = new float[n * 64];
        double norm = 0;
        for (int i = 0; i < v.length; i++) {
            int y = i % 64 / 8;
            int x = i % 8;
            v[i] = (float) (Math.cos(0.7 * y + 0.3 * (i / 64)) * Math.sin(0.5 * x + 0.9));
            norm += v[i] * v[i];
        }
        for (int i = 0; i < v.length; i++) {
            v[i] /= (float) Math.sqrt(norm);
        }
        return m.create(v, new Shape(n, 1, 8, 8));
    }

    /**
     * {@code {autograd, central difference}} of f(x) = Σ w ⊙ purify(x) along {@code v}, with step h. The autograd value
     * is ⟨∇f, v⟩ through the purifier's EXACT route (plain backpropagation).
     */
    public static double[] directionalDerivatives(Purifier p, NDArray x, NDArray w, NDArray v, double h) {
        NDArray leaf = x.duplicate();
        leaf.setRequiresGradient(true);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(p.purify(leaf, 0).mul(w).sum());
        }
        double exact = dot(leaf.getGradient().toFloatArray(), v.toFloatArray());
        float[] wf = w.toFloatArray();
        // the sums in double: float32 sums would put ~1e-4 of rounding into the difference quotient
        double plus = dot(p.purify(x.add(v.mul((float) h)), 0).toFloatArray(), wf);
        double minus = dot(p.purify(x.sub(v.mul((float) h)), 0).toFloatArray(), wf);
        return new double[] {exact, (plus - minus) / (2 * h)};
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    /** Trains on 8 fixed pairs (clean + fixed ±0.05 noise → clean); the loss per step, the last one without update. */
    public static double[] overfit(PurifierNetwork net, NDManager m, int steps, float lr) {
        NDArray clean = images(8, 5).batch(m, 0, 8);
        NDArray noise = m.randomUniform(-0.05f, 0.05f, clean.getShape());
        NDArray adversarial = clean.add(noise).clip(0f, 1f);
        AdamW adam = new AdamW(net.block(), m, 0f);
        SplittableRandom rng = new SplittableRandom(7);
        double[] out = new double[steps + 1];
        for (int s = 0; s <= steps; s++) {
            try (NDManager step = m.newSubManager()) {
                step.tempAttachAll(clean, adversarial);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    PurifierNetwork.Loss l = net.loss(new ParameterStore(step, false), adversarial, clean, rng);
                    gc.backward(l.total());
                    out[s] = l.total().getFloat();
                }
                if (s < steps) {
                    adam.step(step, lr);
                } else {
                    adam.zeroGradients(step);
                }
            }
        }
        return out;
    }
}
