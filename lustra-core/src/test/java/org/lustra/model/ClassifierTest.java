package org.lustra.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lustra.util.Json;
import org.lustra.util.LustraException;

class ClassifierTest {
    @TempDir
    Path tmp;

    static Architecture arch(String type) {
        return switch (type) {
            case "resnet" -> TinyModels.RESNET;
            case "vit" -> TinyModels.VIT;
            default -> TinyModels.VGG;
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet", "vit", "vgg"})
    void forwardReturnsLogitsAndEveryStage(String type) {
        TinyModels.save(arch(type), tmp, 1);
        try (NetClassifier c = ModelStore.loadClassifier(tmp.toString()); NDManager m = NDManager.newBaseManager()) {
            Classifier.Output out = c.forward(m.randomUniform(0, 1, new Shape(5, 1, 8, 8)));
            assertEquals(new Shape(5, 3), out.logits().getShape());
            List<Shape> stages = out.stages().stream().map(NDArray::getShape).toList();
            switch (type) {
                case "resnet" -> assertEquals(List.of(new Shape(5, 4, 8, 8), new Shape(5, 8, 4, 4)), stages);
                case "vit" -> assertEquals(List.of(new Shape(5, 8, 2, 2), new Shape(5, 8, 2, 2)), stages);
                default -> assertEquals(List.of(new Shape(5, 4, 4, 4), new Shape(5, 8, 2, 2)), stages);
            }
            for (NDArray s : out.stages()) {
                assertTrue(s.getManager() == m, "stage activations belong to the input's manager");
            }
        }
    }

    @Test
    void wrongInputShapeIsRejected() {
        TinyModels.save(TinyModels.RESNET, tmp, 1);
        try (NetClassifier c = ModelStore.loadClassifier(tmp.toString()); NDManager m = NDManager.newBaseManager()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> c.forward(m.zeros(new Shape(2, 3, 8, 8))));
            assertTrue(e.getMessage().contains("(N, 1, 8, 8)"), e.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet", "vit", "vgg"})
    void saveThenLoadIsBitIdentical(String type) throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            var net = TinyModels.init(arch(type), m, 7);
            ModelStore.save(net, TinyModels.card("t", arch(type)), tmp);
            NDArray x = m.randomUniform(0, 1, new Shape(4, 1, 8, 8));
            float[] expected = net.forward(new ai.djl.training.ParameterStore(m, false), new ai.djl.ndarray.NDList(x),
                    false).get(0).toFloatArray();
            try (NetClassifier c = ModelStore.loadClassifier(tmp.toString())) {
                assertArrayEquals(expected, c.logits(x).toFloatArray(), 0f);
                assertArrayEquals(ModelStore.encode(net), ModelStore.encode(c.net()), "re-encoded weights identical");
            }
        }
        assertEquals(Files.size(tmp.resolve(ModelStore.WEIGHTS)), ModelStore.encode(
                ModelStore.loadClassifier(tmp.toString()).net()).length);
    }

    @Test
    void tamperedWeightsAreRejectedByHash() throws IOException {
        TinyModels.save(TinyModels.RESNET, tmp, 1);
        try (RandomAccessFile f = new RandomAccessFile(tmp.resolve(ModelStore.WEIGHTS).toFile(), "rw")) {
            f.seek(f.length() - 3);
            int b = f.read();
            f.seek(f.length() - 3);
            f.write(b ^ 0x55);
        }
        LustraException e = assertThrows(LustraException.class, () -> ModelStore.loadClassifier(tmp.toString()));
        assertTrue(e.getMessage().contains("does not match its model card"), e.getMessage());
    }

    @Test
    void weightsOfAnotherArchitectureAreRejected() {
        TinyModels.save(TinyModels.RESNET, tmp, 1);
        ModelCard card = ModelStore.readCard(tmp);
        Architecture wider = Architecture.resnet(1, 8, 3, new int[] {4, 16}, 1);
        Json.writeAtomically(tmp.resolve(ModelStore.CARD), new ModelCard(card.name(), card.role(), wider, 0,
                card.classNames(), null, null, null, 0, null, 0, null, null, null, card.weightsFile(), card.sha256(),
                null));
        LustraException e = assertThrows(LustraException.class, () -> ModelStore.loadClassifier(tmp.toString()));
        assertTrue(e.getMessage().contains("does not fit the architecture"), e.getMessage());
    }

    @Test
    void thousandForwardCallsKeepNativeArrayCountFlat() {
        TinyModels.save(TinyModels.RESNET, tmp, 1);
        try (NetClassifier c = ModelStore.loadClassifier(tmp.toString()); NDManager base = NDManager.newBaseManager()) {
            NDArray x = base.randomUniform(0, 1, new Shape(4, 1, 8, 8));
            int baseCount = -1;
            for (int i = 0; i < 1000; i++) {
                try (NDManager step = base.newSubManager()) {
                    step.tempAttachAll(x);
                    Classifier.Output out = c.forward(x);
                    out.logits().sum().getFloat();
                }
                if (i == 10) {
                    baseCount = base.getManagedArrays().size();
                }
            }
            assertEquals(1, baseCount, "only the input lives in the base manager");
            assertEquals(baseCount, base.getManagedArrays().size(), "array count after 1000 calls");
        }
    }

    @Test
    void sameSeedGivesSameWeightsAndDifferentSeedDifferent() {
        try (NDManager m = NDManager.newBaseManager()) {
            byte[] a = ModelStore.encode(TinyModels.init(TinyModels.VIT, m, 3));
            byte[] b = ModelStore.encode(TinyModels.init(TinyModels.VIT, m, 3));
            byte[] c = ModelStore.encode(TinyModels.init(TinyModels.VIT, m, 4));
            assertArrayEquals(a, b);
            assertNotEquals(java.util.Arrays.hashCode(a), java.util.Arrays.hashCode(c));
        }
    }
}
