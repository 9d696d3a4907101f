package org.lustra.defense.diffender;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.lustra.attack.AttackModel;
import org.lustra.attack.LaVan;
import org.lustra.attack.LogitRows;
import org.lustra.attack.Patch;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.MaskScores;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSource;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;

/**
 * The measurement behind the README's DIFFender localisation table (not part of the suite: surefire runs *Test only).
 * Run: {@code mvn -o -pl lustra-core test -Dtest=DiffenderProbe -Dsurefire.failIfNoSpecifiedTests=false -Dprobe.n=64
 * "-Dprobe.L=a photo with a patch|" -Dprobe.abar=0.3,0.5,0.7 "-Dprobe.specs=diffender,diffender:ep:rec:abar0.7"}.
 * It prints and asserts nothing, so it runs only when {@code probe.n} is given (an IDE's "run all" skips it).
 */
class DiffenderProbe {
    @Test
    @EnabledIfSystemProperty(named = "probe.n", matches = "\\d+")
    void probe() {
        int n = Integer.getInteger("probe.n", 64);
        ImageSet eval = Subsets.load("eval512");
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet");
                DiffusionModel dm = DiffusionModel.load("diffusion-unified");
                NDManager m = NDManager.newBaseManager()) {
            Shape img = new Shape(1, 28, 28);
            float[] x = eval.batch(m, 0, n).toFloatArray();
            int[] y = java.util.Arrays.copyOf(eval.labels(), n);
            AttackModel am = new AttackModel(c::logits, m, img, 1);
            Patch.Result lav = LaVan.attack(am, x, y, new LaVan.Options(0.05, 50, 0.05, 7));
            System.out.printf("LaVAN robust %.3f%n", lav.robustAccuracy());
            String[] ls = System.getProperty("probe.L", "a photo with a patch|").split("\\|", -1);
            double[] thetas = {2.0};
            double[] gs = java.util.Arrays.stream(System.getProperty("probe.g", "7.5").split(",")).mapToDouble(Double::parseDouble).toArray();
            double[] abars = java.util.Arrays.stream(System.getProperty("probe.abar", "0.3").split(",")).mapToDouble(Double::parseDouble).toArray();
            for (String l : ls) {
                for (double g : gs) {
                    for (double th : abars) {
                        PatchLocalizer.Options lo = PatchLocalizer.Options.defaults().withGuidance(g).withAlphaBar(th)
                                .withIndependentNoise(l.isEmpty());
                        PatchLocalizer loc = new PatchLocalizer(dm, lo);
                        try (NDManager s = m.newSubManager()) {
                            long t0 = System.nanoTime();
                            PatchLocalizer.Localization a = loc.localize(s.create(lav.adversarial(), new Shape(n, 1, 28, 28)), Prompt.text(l), new NoiseSource(1));
                            PatchLocalizer.Localization b = loc.localize(s.create(x, new Shape(n, 1, 28, 28)), Prompt.text(l), new NoiseSource(1));
                            double ms = (System.nanoTime() - t0) / 1e6 / (2 * n);
                            float[] ma = a.mask().toFloatArray();
                            float[] mr = a.rawMask().toFloatArray();
                            float[] mb = b.mask().toFloatArray();
                            double iou = 0, pr = 0, rc = 0, iouRaw = 0, area = 0, areaClean = 0;
                            for (int i = 0; i < n; i++) {
                                MaskScores.Overlap sc = MaskScores.overlap(ma, i * 784, lav.masks(), i * 784, 784);
                                iou += sc.iou(); pr += sc.precision(); rc += sc.recall();
                                iouRaw += MaskScores.overlap(mr, i * 784, lav.masks(), i * 784, 784).iou();
                            }
                            for (int j = 0; j < n * 784; j++) { area += ma[j]; areaClean += mb[j]; }
                            System.out.printf("L='%s' g=%.1f abar=%.2f: IoU %.3f (raw %.3f) P %.3f R %.3f | mask area adv %.1f%% clean %.1f%% | %.1f ms/img%n",
                                l, g, th, iou / n, iouRaw / n, pr / n, rc / n, 100 * area / (n * 784.0), 100 * areaClean / (n * 784.0), ms);
                        }
                    }
                }
            }
            // reference signal (not DIFFender): one-step reconstruction error |x̂0(∅) − x|, summed over m draws
            for (double ab : abars) {
                int t = dm.schedule().timestepForAlphaBar(ab);
                try (NDManager s = m.newSubManager()) {
                    NDArray xa = s.create(lav.adversarial(), new Shape(n, 1, 28, 28)).mul(2).sub(1);
                    NoiseSource ns = new NoiseSource(1);
                    NDArray sum = s.zeros(xa.getShape());
                    for (int r = 0; r < 3; r++) {
                        NDArray xt = dm.schedule().addNoise(xa, t, ns.normal(s, xa.getShape()));
                        int[] ts = new int[n];
                        java.util.Arrays.fill(ts, t);
                        NDArray eps = dm.predictNoise(xt, ts, DiffusionModel.fullMask(xt), s.zeros(xt.getShape()), dm.context(s, java.util.Collections.nCopies(n, ""), false), false);
                        sum = sum.add(dm.schedule().predictX0(xt, t, eps).clip(-1f, 1f).sub(xa).abs());
                    }
                    NDArray z = PatchLocalizer.zScores(sum);
                    float[] mk = PatchLocalizer.refine(z.gt(2f).toType(ai.djl.ndarray.types.DataType.FLOAT32, false)).toFloatArray();
                    double iou = 0, pr = 0, rc = 0, area = 0;
                    for (int i = 0; i < n; i++) {
                        MaskScores.Overlap sc = MaskScores.overlap(mk, i * 784, lav.masks(), i * 784, 784);
                        iou += sc.iou(); pr += sc.precision(); rc += sc.recall();
                    }
                    for (int j = 0; j < n * 784; j++) { area += mk[j]; }
                    System.out.printf("reconstruction abar=%.2f: IoU %.3f P %.3f R %.3f area %.1f%%%n", ab, iou / n, pr / n, rc / n, 100 * area / (n * 784.0));
                }
            }
            for (String spec : System.getProperty("probe.specs", "").split(",")) {
                if (spec.isEmpty()) continue;
                Diffender d = new Diffender(dm, DefenseSpec.parse(spec).asDiffender().orElseThrow().options(dm));
                try (NDManager s = m.newSubManager()) {
                    long t0 = System.nanoTime();
                    Diffender.Result ra = d.purifyWithMasks(s.create(lav.adversarial(), new Shape(n, 1, 28, 28)), 3);
                    Diffender.Result rc = d.purifyWithMasks(s.create(x, new Shape(n, 1, 28, 28)), 3);
                    double ms = (System.nanoTime() - t0) / 1e6 / (2 * n);
                    float[] ma = ra.localization().mask().toFloatArray();
                    double iou = 0, area = 0, areaC = 0;
                    float[] mc = rc.localization().mask().toFloatArray();
                    for (int i2 = 0; i2 < n; i2++) iou += MaskScores.overlap(ma, i2 * 784, lav.masks(), i2 * 784, 784).iou();
                    for (int j2 = 0; j2 < n * 784; j2++) { area += ma[j2]; areaC += mc[j2]; }
                    System.out.printf("purify %s: robust %.3f clean %.3f IoU %.3f area adv %.1f%% clean %.1f%%, %.1f ms/img%n", spec,
                            acc(c, ra.purified(), y), acc(c, rc.purified(), y), iou / n, 100 * area / (n * 784.0), 100 * areaC / (n * 784.0), ms);
                }
            }
        }
    }

    static double acc(NetClassifier c, NDArray x, int[] y) {
        float[] z = c.logits(x).toFloatArray();
        int k = z.length / y.length, ok = 0;
        for (int i = 0; i < y.length; i++) ok += LogitRows.argMax(z, i, k) == y[i] ? 1 : 0;
        return (double) ok / y.length;
    }
}
