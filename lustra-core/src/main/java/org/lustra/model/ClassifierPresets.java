package org.lustra.model;

import java.util.List;
import java.util.Map;
import org.lustra.data.FashionMnist;

/** The shipped classifiers: their names, architectures, data and default training settings. */
public final class ClassifierPresets {

    /** One preset: the model name, its role, architecture, data set and default options. */
    public record Preset(String arch, String modelName, String role, Architecture architecture, String dataset,
            ClassifierTraining.Options options) {}

    private static final List<String> DIGIT_NAMES = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");

    private static final Map<String, Preset> PRESETS = Map.of(
            "resnet", new Preset("resnet", "classifier-resnet",
                    "the protected classifier; source of attention maps and features",
                    Architecture.resnet(1, 28, 10, new int[] {24, 48, 96}, 1), "fashion-mnist",
                    new ClassifierTraining.Options(15, 128, 2e-3f, 0.05f, 300, true, 1, 1L, 120)),
            "vit", new Preset("vit", "classifier-vit", "transformer classifier (transfer and hetero experiments)",
                    Architecture.vit(1, 28, 10, 4, 64, 5, 4, 128, 32), "fashion-mnist",
                    new ClassifierTraining.Options(14, 128, 2e-3f, 0.05f, 500, true, 1, 2L, 120)),
            "cnn2", new Preset("cnn2", "classifier-cnn2", "a differently built CNN, used only for transfer tests",
                    Architecture.vgg(1, 28, 10, new int[] {32, 64}, 256), "fashion-mnist",
                    new ClassifierTraining.Options(8, 128, 1e-3f, 0.05f, 300, true, 1, 3L, 120)),
            "digits", new Preset("digits", "classifier-digits", "classifier on the OpenCV digits (cross-dataset)",
                    Architecture.resnet(1, 28, 10, new int[] {16, 32, 64}, 1), "digits",
                    new ClassifierTraining.Options(25, 64, 2e-3f, 0.05f, 100, false, 2, 4L, 120)));

    private ClassifierPresets() {}

    public static Preset get(String arch) {
        Preset p = PRESETS.get(arch);
        if (p == null) {
            throw new IllegalArgumentException("Unknown classifier arch '" + arch + "'; choose one of "
                    + List.copyOf(new java.util.TreeSet<>(PRESETS.keySet())));
        }
        return p;
    }

    public static List<String> classNames(String dataset) {
        return dataset.equals("digits") ? DIGIT_NAMES : FashionMnist.CLASSES;
    }
}
