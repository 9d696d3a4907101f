package org.lustra.defense;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.attack.Norm;
import org.lustra.attack.Pgd;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.model.TorchScriptClassifier;
import org.lustra.util.LustraException;

/** A user's TorchScript classifier defended through the same factory and purify path as Lustra's own networks. */
class TorchScriptDefenceTest {
    @TempDir
    Path tmp;

    static Path fixture() {
        try {
            return Path.of(TorchScriptDefenceTest.class.getResource("/org/lustra/model/torchscript/tiny-fmnist.pt")
                    .toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static int correct(NDArray logits, int[] labels) {
        long[] pred = logits.argMax(1).toLongArray();
        int ok = 0;
        for (int i = 0; i < labels.length; i++) {
            ok += pred[i] == labels[i] ? 1 : 0;
        }
        return ok;
    }

    @Test
    void givenPgdExamplesAgainstTheBareModelWhenMedianSmoothingDefendsItThenMoreSurvive() {
        // given: 64 eval512 images attacked through the bare TorchScript classifier (PGD l-inf 0.1, 20 steps)
        ImageSet eval = Subsets.load("eval512");
        int[] y = Arrays.copyOf(eval.labels(), 64);
        try (TorchScriptClassifier c = TorchScriptClassifier.load(fixture()); DefenseFactory f = new DefenseFactory();
                NDManager m = NDManager.newBaseManager()) {
            NDArray x = eval.batch(m, 0, 64);
            Pgd.Result adv = Pgd.attack(c::logits, x, y, new Pgd.Options(Norm.LINF, 0.1, 20, 0, true, 3));
            Purifier median = f.create(DefenseSpec.parse("median:3"), c);
            DefendedClassifier defended = new DefendedClassifier(median, c);
            // when
            int clean = correct(c.logits(x), y);
            int bare = correct(c.logits(adv.adversarial()), y);
            int behindMedian = correct(defended.logits(adv.adversarial(), GradientMode.BPDA, 1), y);
            // then: the defended logits are the classifier's on the purified images, and the defence helps
            assertArrayEquals(c.logits(median.purify(adv.adversarial(), 1)).toFloatArray(),
                    defended.logits(adv.adversarial(), GradientMode.BPDA, 1).toFloatArray(), 1e-5f);
            System.out.printf(Locale.ROOT, "tiny-fmnist on 64 eval512 images: clean %d, PGD 0.1 %d, PGD 0.1 then "
                    + "median:3 %d%n", clean, bare, behindMedian);
            assertTrue(bare <= 2, "PGD at 0.1 breaks the bare model: " + bare + " of 64 survive");
            assertTrue(behindMedian >= bare + 10, "median:3 restores some: " + behindMedian + " vs " + bare);
        }
    }

    @Test
    void givenTheMedianDefenceWhenAnAdaptiveAttackerTakesBpdaGradientsThenTheyReachTheInput() {
        // given
        ImageSet eval = Subsets.load("eval512");
        try (TorchScriptClassifier c = TorchScriptClassifier.load(fixture()); DefenseFactory f = new DefenseFactory();
                NDManager m = NDManager.newBaseManager()) {
            DefendedClassifier defended = new DefendedClassifier(f.create(DefenseSpec.parse("median:3"), c), c);
            NDArray x = eval.batch(m, 0, 4);
            // when
            float[] g = defended.lossGradient(x, GradientMode.BPDA, 1, z -> z.logSoftmax(1).get(":, 0").neg())
                    .gradient().toFloatArray();
            // then
            double norm = 0;
            for (float v : g) {
                assertTrue(Float.isFinite(v));
                norm += v * v;
            }
            assertTrue(Math.sqrt(norm) > 1e-2, "BPDA gradient through median reaches the input: " + Math.sqrt(norm));
        }
    }

    @Test
    void givenATorchScriptModelWhenAskingForDefencesThatReadItsStagesThenEachRefusesInOneSentence() {
        try (TorchScriptClassifier c = TorchScriptClassifier.load(fixture()); DefenseFactory f = new DefenseFactory()) {
            // when / then: hetero refuses before loading the diffusion model, FNC when it wraps the classifier
            String hetero = assertThrows(LustraException.class, () -> f.create(DefenseSpec.parse("hetero"), c))
                    .getMessage();
            assertTrue(hetero.contains("does not expose") && hetero.endsWith("."), hetero);
            Purifier fnc = f.create(DefenseSpec.parse("fnc"), c);
            String clip = assertThrows(LustraException.class, () -> new DefendedClassifier(fnc, c)).getMessage();
            assertTrue(clip.contains("tiny-fmnist does not") && !clip.contains("\n"), clip);
        }
    }

    @Test
    void givenAClassifierOfAnotherSizeWhenAskingForDiffPureThenItRefusesNamingBothShapes() throws IOException {
        // given: the fixture pools globally, so it also runs on 32x32 inputs
        Path pt = tmp.resolve("wide.pt");
        Files.copy(fixture(), pt);
        Files.writeString(tmp.resolve("wide.json"), "{\"classes\": [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", "
                + "\"h\", \"i\", \"j\"], \"channels\": 1, \"size\": 32}");
        try (TorchScriptClassifier c = TorchScriptClassifier.load(pt); DefenseFactory f = new DefenseFactory()) {
            // when
            String msg = assertThrows(LustraException.class, () -> f.create(DefenseSpec.parse("diffpure:0.1:ddim10"), c))
                    .getMessage();
            // then
            assertTrue(msg.contains("1x28x28 images but wide takes 1x32x32"), msg);
            assertFalse(msg.contains("\n"));
        }
    }
}
