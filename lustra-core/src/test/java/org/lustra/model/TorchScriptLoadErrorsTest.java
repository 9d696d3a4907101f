package org.lustra.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.util.LustraException;

/** Every way a bring-your-own classifier can be wrong ends in one sentence naming the problem and the fix. */
class TorchScriptLoadErrorsTest {
    static final String CLASSES = "[\"t-shirt\", \"trouser\", \"pullover\", \"dress\", \"coat\", \"sandal\", \"shirt\", "
            + "\"sneaker\", \"bag\", \"boot\"]";

    @TempDir
    Path tmp;

    /** The fixture copied to {@code tmp/name}, with {@code json} (if not null) written to {@code tmp/jsonName}. */
    Path model(String name, String jsonName, String json) throws IOException {
        Path pt = tmp.resolve(name);
        Files.copy(TorchScriptClassifierTest.fixture(), pt);
        if (json != null) {
            Files.writeString(tmp.resolve(jsonName), json);
        }
        return pt;
    }

    static String failure(Path pt) {
        LustraException e = assertThrows(LustraException.class, () -> TorchScriptClassifier.load(pt).close());
        String msg = e.getMessage();
        assertFalse(msg.contains("\n"), "one line: " + msg);
        assertTrue(msg.endsWith("."), "a sentence: " + msg);
        return msg;
    }

    @Test
    void givenNoFileWhenLoadingThenTheSentenceNamesTheFileAndHowToSaveOne() {
        String msg = failure(tmp.resolve("missing.pt"));
        assertTrue(msg.contains("missing.pt does not exist") && msg.contains("torch.jit.trace"), msg);
    }

    @Test
    void givenNoDescriptionWhenLoadingThenTheSentenceNamesTheJsonToWrite() throws IOException {
        Path pt = model("net.pt", null, null);
        String msg = failure(pt);
        assertTrue(msg.contains("has no description beside it") && msg.contains(tmp.resolve("net.json").toString())
                && msg.contains("\"classes\""), msg);
    }

    @Test
    void givenBrokenJsonWhenLoadingThenTheSentenceSaysItIsNotValidJson() throws IOException {
        Path pt = model("net.pt", "net.json", "{\"classes\": [\"a\", \"b\"");
        assertTrue(failure(pt).contains("net.json is not valid JSON"));
    }

    @Test
    void givenAMisspelledFieldWhenLoadingThenTheSentenceNamesItAndTheAllowedFields() throws IOException {
        Path pt = model("net.pt", "net.pt.json", "{\"classNames\": " + CLASSES + ", \"channels\": 1, \"size\": 28}");
        String msg = failure(pt);
        assertTrue(msg.contains("unknown field \"classNames\"") && msg.contains("classes, mean, name, range, size, std"),
                msg);
    }

    @Test
    void givenAMissingSizeWhenLoadingThenTheSentenceNamesTheField() throws IOException {
        Path pt = model("net.pt", "net.json", "{\"classes\": " + CLASSES + ", \"channels\": 1}");
        assertTrue(failure(pt).contains("field \"size\" is missing"));
    }

    @Test
    void givenAnInvertedRangeWhenLoadingThenTheSentenceGivesTheRule() throws IOException {
        Path pt = model("net.pt", "net.json", "{\"classes\": " + CLASSES + ", \"channels\": 1, \"size\": 28, "
                + "\"range\": [1, 0]}");
        assertTrue(failure(pt).contains("Invalid range: [1.0, 0.0] (two finite numbers [lo, hi] with lo < hi"));
    }

    @Test
    void givenTwoDescriptionsWhenLoadingThenTheSentenceAsksToKeepOne() throws IOException {
        Path pt = model("net.pt", "net.json", "{}");
        Files.writeString(tmp.resolve("net.pt.json"), "{}");
        assertTrue(failure(pt).contains("keep one of them"));
    }

    @Test
    void givenAWrongInputSizeWhenLoadingThenTheProbeSaysWhichShapeFailed() throws IOException {
        // the fixture pools globally, so 3 channels (not size) is what its first convolution cannot take
        Path pt = model("net.pt", "net.json", "{\"classes\": " + CLASSES + ", \"channels\": 3, \"size\": 28}");
        String msg = failure(pt);
        assertTrue(msg.contains("fails on a 3x28x28 input") && msg.contains("set \"channels\" and \"size\""), msg);
    }

    @Test
    void givenTooManyClassNamesWhenLoadingThenTheSentenceComparesOutputsAndNames() throws IOException {
        Path pt = model("net.pt", "net.json", "{\"classes\": [\"a\", \"b\", \"c\"], \"channels\": 1, \"size\": 28}");
        String msg = failure(pt);
        assertTrue(msg.contains("returns shape (1, 10) for one image but its description names 3 classes"), msg);
    }

    @Test
    void givenAFileThatIsNotTorchScriptWhenLoadingThenTheSentenceSaysHowToExportIt() throws IOException {
        Path pt = tmp.resolve("weights.pt");
        Files.write(pt, new byte[] {1, 2, 3, 4, 5});
        Files.writeString(tmp.resolve("weights.json"), "{\"classes\": " + CLASSES + ", \"channels\": 1, \"size\": 28}");
        String msg = failure(pt);
        assertTrue(msg.contains("is not a TorchScript module PyTorch") && msg.contains("torch.jit.script"), msg);
    }

    @Test
    void givenOneMeanForThreeChannelsWhenMakingACardThenItAppliesToEach() {
        TorchScriptCard c = new TorchScriptCard("n", java.util.List.of("a", "b"), 3, 32, new float[] {0, 255},
                new float[] {127.5f}, null);
        assertArrayEquals(new float[] {127.5f, 127.5f, 127.5f}, c.mean());
        assertArrayEquals(new float[] {255f, 255f, 255f}, c.scale());
        assertArrayEquals(new float[] {-127.5f, -127.5f, -127.5f}, c.shift());
        assertFalse(c.identityInput());
        assertEquals(true, new TorchScriptCard("n", java.util.List.of("a", "b"), 1, 8, null, null, null)
                .identityInput());
    }
}
