package org.lustra.defense.diffender;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.lustra.attack.AttackModel;
import org.lustra.attack.LaVan;
import org.lustra.attack.Patch;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.defense.DefenseFactory;
import org.lustra.defense.MaskScores;
import org.lustra.diffusion.NoiseSource;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;

/**
 * DIFFender's localisation with the shipped models on real LaVAN patches (16 images of eval512): the reconstruction
 * signal finds them (measured IoU 0.45 on 64 images), and it marks little of a clean image.
 */
class ShippedDiffenderTest {
    @Test
    void theReconstructionSignalFindsLavanPatches() {
        int n = 16;
        int d = 28 * 28;
        ImageSet eval = Subsets.load("eval512");
        try (NetClassifier c = ModelStore.loadClassifier("classifier-resnet");
                DefenseFactory defenses = new DefenseFactory();
                NDManager m = NDManager.newBaseManager()) {
            float[] x = eval.batch(m, 0, n).toFloatArray();
            int[] y = java.util.Arrays.copyOf(eval.labels(), n);
            Patch.Result lav = LaVan.attack(new AttackModel(c::logits, m, new Shape(1, 28, 28), 1), x, y,
                    new LaVan.Options(0.05, 50, 0.05, 7));
            Diffender rec = (Diffender) defenses.create("diffender:ep:rec:abar0.7");
            Diffender paper = (Diffender) defenses.create("diffender");
            double recIou = meanIou(rec, m, lav, n, d);
            double paperIou = meanIou(paper, m, lav, n, d);
            assertTrue(recIou > 0.3, "reconstruction-signal IoU " + recIou);
            assertTrue(recIou > paperIou, "reconstruction " + recIou + " vs the paper's guidance signal " + paperIou);
            float[] clean = rec.localizer().localize(m.create(x, new Shape(n, 1, 28, 28)), rec.options().promptL(),
                    new NoiseSource(3)).mask().toFloatArray();
            double area = 0;
            for (float v : clean) {
                area += v;
            }
            assertTrue(area / clean.length < 0.10, "clean images: " + area / clean.length + " of the pixels masked");
        }
    }

    private static double meanIou(Diffender def, NDManager m, Patch.Result lav, int n, int d) {
        float[] mask = def.localizer().localize(m.create(lav.adversarial(), new Shape(n, 1, 28, 28)),
                def.options().promptL(), new NoiseSource(3)).mask().toFloatArray();
        double iou = 0;
        for (int i = 0; i < n; i++) {
            iou += MaskScores.overlap(mask, i * d, lav.masks(), i * d, d).iou();
        }
        return iou / n;
    }
}
