package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.defense.learned.LearnedModels;
import org.lustra.defense.learned.PairTraining;
import org.lustra.defense.maep.MaepNetwork;
import org.lustra.model.ModelCard;
import org.lustra.model.ModelStore;

class DefenceCostTest {

    @Test
    void givenAClassifierBehindAJpegDefence_whenEvaluated_thenAccuracyFidelityAndErrorsArePrinted() {
        CliErrorsTest.Run r = CliErrorsTest.run("eval", "classifier", "--model", "classifier-resnet", "--split",
                "fewshot8", "--defense", "jpeg:50");

        assertEquals(0, r.code(), r.err());
        Matcher m = Pattern.compile("accuracy ([0-9.]+)% \\((\\d+)/(\\d+)\\); purified vs input: PSNR ([0-9.]+) dB")
                .matcher(r.out());
        assertTrue(m.find(), r.out());
        int correct = Integer.parseInt(m.group(2));
        int total = Integer.parseInt(m.group(3));
        assertEquals(100.0 * correct / total, Double.parseDouble(m.group(1)), 0.005);
        double psnr = Double.parseDouble(m.group(4));
        assertTrue(psnr > 20 && psnr < 60, "JPEG at quality 50 changes pixels but keeps the image: " + psnr);
        assertTrue(r.out().contains(correct == total ? "0 errors" : (total - correct) + " errors by true class"),
                r.out());
    }

    @Test
    void givenRecordWithADefenceThatHasNoCard_whenEvaluated_thenItIsRefusedInOneSentence() {
        CliErrorsTest.assertOneSentence(CliErrorsTest.run("eval", "classifier", "--model", "classifier-resnet",
                "--defense", "jpeg:50", "--record"), "without --record");
    }

    @Test
    void givenATrainedPurifier_whenEvaluatedWithRecord_thenItsCardHoldsTheAccuracyAndFidelity(@TempDir Path tmp)
            throws Exception {
        Path dir = tmp.resolve("maep-random");
        MaepNetwork net = MaepNetwork.create(MaepNetwork.Config.small(1, 28), NDManager.newBaseManager(), 1);
        try {
            PairTraining.Options opt = new PairTraining.Options(1, 2, 1e-3f, 0, 0f, List.of(0.1), 1, 1L, 60, 1);
            LearnedModels.save(net, LearnedModels.card("maep-random", "test", new PairTraining.Result(net, 0, 0, 0,
                    List.of()), opt, "classifier-resnet", List.of("a"), "synthetic", "none", "test"), dir);
        } finally {
            net.close();
        }

        CliErrorsTest.Run r = CliErrorsTest.run("eval", "classifier", "--model", "classifier-resnet", "--split",
                "fewshot8", "--defense", "maep:" + dir, "--record");

        assertEquals(0, r.code(), r.err());
        ModelCard card = ModelStore.readCard(dir);
        Matcher m = Pattern.compile("accuracy ([0-9.]+)%").matcher(r.out());
        assertTrue(m.find(), r.out());
        assertEquals(Double.parseDouble(m.group(1)), 100 * card.metrics().get("fewshot8_accuracy_behind_"
                + "classifier-resnet"), 0.005);
        assertTrue(Double.isFinite(card.metrics().get("fewshot8_purified_psnr_db")), card.metrics().toString());
        assertTrue(card.metrics().containsKey("fewshot8_purified_ssim"), card.metrics().toString());
    }
}
