package org.lustra.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.nn.Autograd;

/**
 * The committed fixture {@code torchscript/tiny-fmnist.pt} (traced by scripts/make-torchscript-fixture.py with Debian's
 * torch 1.13) loaded by PyTorch 2.7.1 through DJL: same logits as Python, eval mode, exact input gradients.
 */
class TorchScriptClassifierTest {
    /** Python's float32 logits against ours: different PyTorch versions and kernels, so not bit-equal. */
    static final double LOGIT_TOLERANCE = 1e-4;

    @TempDir
    Path tmp;

    static Path fixture() {
        try {
            return Path.of(TorchScriptClassifierTest.class.getResource("torchscript/tiny-fmnist.pt").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonObject expected() throws IOException {
        Path f = fixture().resolveSibling("tiny-fmnist.expected.json");
        return JsonParser.parseString(Files.readString(f, StandardCharsets.UTF_8)).getAsJsonObject();
    }

    /** The script's three fixed inputs, rebuilt here, as (3, 1, 28, 28) in [0, 1]. */
    static float[] fixedInputs() {
        float[] x = new float[3 * 784];
        ImageSet eval = Subsets.load("eval512");
        System.arraycopy(eval.imageFloats(0), 0, x, 0, 784);
        for (int p = 0; p < 784; p++) {
            x[784 + p] = 0.5f;
            x[2 * 784 + p] = (p % 97) / 96f; // p = i·28 + j
        }
        return x;
    }

    @Test
    void givenTheFixtureWhenClassifyingTheScriptsFixedInputsThenLogitsMatchPython() throws IOException {
        // given
        var outputs = expected().getAsJsonArray("outputs");
        try (TorchScriptClassifier c = TorchScriptClassifier.load(fixture());
                NDManager m = NDManager.newBaseManager()) {
            // when
            float[] logits = c.logits(m.create(fixedInputs(), new Shape(3, 1, 28, 28))).toFloatArray();
            // then
            double worst = 0;
            for (int i = 0; i < 3; i++) {
                var want = outputs.get(i).getAsJsonObject().getAsJsonArray("logits");
                for (int k = 0; k < 10; k++) {
                    worst = Math.max(worst, Math.abs(logits[i * 10 + k] - want.get(k).getAsDouble()));
                }
            }
            System.out.printf(Locale.ROOT, "TorchScript fixture: max |logit - Python| = %.3g over 3 inputs%n", worst);
            assertTrue(worst < LOGIT_TOLERANCE, "max logit difference to Python " + worst);
            assertEquals(List.of(1, 10), List.of(c.channels(), c.classes()));
            assertEquals("tiny-fmnist", c.name());
            assertFalse(c.exposesStages());
        }
    }

    @Test
    void givenTheFixtureWhenClassifyingABatchTwiceThenOutputsAreEvalModeAndRepeatable() {
        // given: BatchNorm in training mode would normalise by the batch and dropout would randomise
        try (TorchScriptClassifier c = TorchScriptClassifier.load(fixture());
                NDManager m = NDManager.newBaseManager()) {
            NDArray three = m.create(fixedInputs(), new Shape(3, 1, 28, 28));
            // when
            float[] first = c.logits(three).toFloatArray();
            float[] again = c.logits(three).toFloatArray();
            float[] alone = c.logits(three.get("2:3")).toFloatArray();
            // then: same numbers, and an image's logits do not depend on the rest of the batch
            for (int k = 0; k < 10; k++) {
                assertEquals(first[k], again[k], 0f);
                assertEquals(first[20 + k], alone[k], 1e-5f);
            }
        }
    }

    @Test
    void givenTheFixtureWhenTakingTheInputGradientThenItMatchesPythonsAutograd() throws IOException {
        // given: log-sum-exp of the logits at eval512[0]; Python's gradient of the same loss is in the fixture
        var want = expected().getAsJsonArray("logSumExpGradientAtEval512First");
        try (TorchScriptClassifier c = TorchScriptClassifier.load(fixture());
                NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(fixedInputs(), new Shape(3, 1, 28, 28)).get("0:1");
            // when
            float[] g = Autograd.inputGradient(x, v -> logSumExp(c, v)).toFloatArray();
            // then
            double worst = 0;
            double norm = 0;
            for (int p = 0; p < 784; p++) {
                worst = Math.max(worst, Math.abs(g[p] - want.get(p).getAsDouble()));
                norm += g[p] * g[p];
            }
            System.out.printf(Locale.ROOT, "input gradient: norm %.4f, max |Java - Python| %.3g%n", Math.sqrt(norm),
                    worst);
            assertTrue(Math.sqrt(norm) > 0.1, "the gradient must reach the input: norm " + Math.sqrt(norm));
            assertTrue(worst < 1e-5, "max gradient difference to Python " + worst);
        }
    }

    @Test
    void givenTheFixtureWhenTakingTheInputGradientThenItMatchesCentralDifferences() {
        // given: log-sum-exp of the logits at two of the fixed inputs, four random unit directions each; a step of
        // 3e-3 along a unit direction is small against the ReLU kinks and large against float32 rounding (checked in
        // Python: its own autograd and differences agree to 0.1–5 % there, the worst where a kink is near)
        try (TorchScriptClassifier c = TorchScriptClassifier.load(fixture());
                NDManager m = NDManager.newBaseManager()) {
            SplittableRandom rng = new SplittableRandom(7);
            float h = 3e-3f;
            for (int image : new int[] {0, 2}) {
                NDArray x = m.create(fixedInputs(), new Shape(3, 1, 28, 28)).get(image + ":" + (image + 1));
                // when
                float[] g = Autograd.inputGradient(x, v -> logSumExp(c, v)).toFloatArray();
                // then
                for (int t = 0; t < 4; t++) {
                    float[] d = unitDirection(rng, 784);
                    double analytic = 0;
                    for (int p = 0; p < 784; p++) {
                        analytic += g[p] * d[p];
                    }
                    NDArray step = m.create(d, x.getShape()).mul(h);
                    double numeric = (logSumExp(c, x.add(step)).getFloat() - logSumExp(c, x.sub(step)).getFloat())
                            / (2.0 * h);
                    System.out.printf(Locale.ROOT, "image %d direction %d: autograd %.5f, central difference %.5f%n",
                            image, t, analytic, numeric);
                    assertEquals(numeric, analytic, 0.06 * Math.abs(analytic) + 2e-3);
                }
            }
        }
    }

    private static NDArray logSumExp(Classifier c, NDArray v) {
        return c.logits(v).exp().sum(new int[] {1}).log();
    }

    private static float[] unitDirection(SplittableRandom rng, int n) {
        float[] d = new float[n];
        double norm = 0;
        for (int p = 0; p < n; p++) {
            d[p] = (float) rng.nextGaussian();
            norm += d[p] * d[p];
        }
        for (int p = 0; p < n; p++) {
            d[p] /= (float) Math.sqrt(norm);
        }
        return d;
    }

    @Test
    void givenADescriptionInByteRangeWhenLoadingThenTheSameLogitsComeOut() throws IOException {
        // given: [0, 255] with mean and std ×255 is the same input mapping as the committed [0, 1] description
        Path pt = tmp.resolve("bytes.pt");
        Files.copy(fixture(), pt);
        Files.writeString(tmp.resolve("bytes.pt.json"), "{\"name\": \"byte-net\", \"classes\": " + JsonParser.parseString(Files.readString(
                fixture().resolveSibling("tiny-fmnist.json"))).getAsJsonObject().get("classes") + ", \"channels\": 1, "
                + "\"size\": 28, \"range\": [0, 255], \"mean\": 72.93, \"std\": [90.015]}");
        try (TorchScriptClassifier ref = TorchScriptClassifier.load(fixture());
                TorchScriptClassifier bytes = TorchScriptClassifier.load(pt);
                NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(fixedInputs(), new Shape(3, 1, 28, 28));
            // when
            float[] a = ref.logits(x).toFloatArray();
            float[] b = bytes.logits(x).toFloatArray();
            // then
            assertEquals("byte-net", bytes.name(), "a name other than the file's");
            for (int k = 0; k < a.length; k++) {
                assertEquals(a[k], b[k], 1e-3f);
            }
        }
    }

    @Test
    void givenTheFixturePathWhenDescribingThenShapeAndClassesComeFromTheJsonWithoutTheEngine() {
        // given / when
        Classifiers.Description d = Classifiers.describe(fixture().toString());
        // then
        assertTrue(Classifiers.isTorchScript(fixture().toString()));
        assertFalse(Classifiers.isTorchScript("classifier-resnet"));
        assertEquals(new Classifiers.Description("tiny-fmnist", 1, 28, List.of("t-shirt", "trouser", "pullover",
                "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot")), d);
    }
}
