package org.lustra.model;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.lustra.util.Files2;
import org.lustra.util.LustraException;

/**
 * Where every command finds its classifier: a shipped model name ({@code classifier-resnet}), a model folder, or a
 * user's TorchScript file ({@code path/to/model.pt} with its {@link TorchScriptCard} beside it). One place decides
 * which, so {@code --classifier} means the same thing in every command and in experiment configs.
 */
public final class Classifiers {
    /** File endings taken as TorchScript even when the file is missing (so the error names the file, not a model). */
    private static final List<String> TORCHSCRIPT_ENDINGS = List.of(".pt", ".pth", ".ts", ".torchscript");

    private Classifiers() {}

    /** The classifier's input shape and classes, read without starting the engine. */
    public record Description(String name, int channels, int size, List<String> classNames) {
        public Description {
            classNames = List.copyOf(classNames);
        }
    }

    /** True when {@code nameOrPath} names a TorchScript file rather than a shipped model or a model folder. */
    public static boolean isTorchScript(String nameOrPath) {
        String lower = nameOrPath.toLowerCase(Locale.ROOT);
        return TORCHSCRIPT_ENDINGS.stream().anyMatch(lower::endsWith) || Files.isRegularFile(Path.of(nameOrPath));
    }

    /** Loads the classifier {@code nameOrPath} names; the caller closes it. */
    public static Classifier open(String nameOrPath) {
        return isTorchScript(nameOrPath) ? TorchScriptClassifier.load(Path.of(nameOrPath))
                : ModelStore.loadClassifier(nameOrPath);
    }

    /** Input shape and classes from the model card or the TorchScript description, before any engine starts. */
    public static Description describe(String nameOrPath) {
        if (isTorchScript(nameOrPath)) {
            Path file = Path.of(nameOrPath);
            if (!Files.isRegularFile(file)) {
                throw new LustraException("Classifier file " + file + " does not exist; give the path of a "
                        + "TorchScript file saved with torch.jit.trace(model, example).save(\"model.pt\").");
            }
            TorchScriptCard c = TorchScriptCard.read(file);
            return new Description(c.name(), c.channels(), c.size(), c.classes());
        }
        ModelCard card = ModelStore.readCard(ModelStore.resolve(nameOrPath));
        if (card.architecture() == null) {
            throw new LustraException("'" + nameOrPath + "' is not a classifier; choose one of " + String.join(", ",
                    ModelStore.available().stream().filter(n -> n.startsWith("classifier")).toList())
                    + ", or give a TorchScript file (model.pt with model.json beside it).");
        }
        return new Description(card.name(), card.architecture().channels(), card.architecture().size(),
                card.classNames());
    }

    /**
     * SHA-256 identifying the classifier's weights, as run manifests record it: the model card's (verified on load)
     * for a shipped model, and for a TorchScript file the hash of the file and its description together, since both
     * change what the classifier computes.
     */
    public static String sha256(String nameOrPath) {
        if (isTorchScript(nameOrPath)) {
            Path file = Path.of(nameOrPath);
            return Files2.sha256((Files2.sha256(file) + Files2.sha256(TorchScriptCard.find(file)))
                    .getBytes(StandardCharsets.US_ASCII));
        }
        return ModelStore.sha256(nameOrPath);
    }
}
