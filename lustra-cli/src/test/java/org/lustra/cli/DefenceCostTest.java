package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

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
    void givenRecordWithADefence_whenEvaluated_thenItIsRefusedInOneSentence() {
        CliErrorsTest.assertOneSentence(CliErrorsTest.run("eval", "classifier", "--model", "classifier-resnet",
                "--defense", "jpeg:50", "--record"), "without --record");
    }
}
