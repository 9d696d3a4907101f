package org.lustra.model;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.List;
import org.lustra.nn.ClassifierNet;

/** Tiny randomly initialised classifiers for tests (8×8 inputs, 3 classes). */
final class TinyModels {
    static final List<String> CLASSES = List.of("a", "b", "c");

    static final Architecture RESNET = Architecture.resnet(1, 8, 3, new int[] {4, 8}, 1);
    static final Architecture VIT = Architecture.vit(1, 8, 3, 4, 8, 2, 2, 16, 4);
    static final Architecture VGG = Architecture.vgg(1, 8, 3, new int[] {4, 8}, 16);

    private TinyModels() {}

    static ClassifierNet init(Architecture arch, NDManager manager, int seed) {
        return arch.initialize(manager, seed);
    }

    static ModelCard card(String name, Architecture arch) {
        return new ModelCard(name, "test", arch, 0, CLASSES, "synthetic", "none", "test", 0, null, 0, null, null,
                null, null, null, null);
    }

    /** Saves a freshly initialised model into {@code dir}. */
    static void save(Architecture arch, Path dir, int seed) {
        try (NDManager m = NDManager.newBaseManager()) {
            ModelStore.save(init(arch, m, seed), card("tiny-" + arch.type(), arch), dir);
        }
    }
}
