package org.lustra.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.lustra.nn.ClassifierNet;
import org.lustra.util.Files2;
import org.lustra.util.Json;
import org.lustra.util.LustraException;
import org.lustra.util.LustraHome;
import org.lustra.util.SafeTensors;

/**
 * Shipped models: {@code models/<name>/weights.safetensors} plus {@code models/<name>/model-card.json}. Saving
 * writes both atomically and records the weights' SHA-256; loading checks the hash and that every parameter the
 * card's architecture needs is in the file with the right shape.
 */
public final class ModelStore {
    public static final String WEIGHTS = "weights.safetensors";
    public static final String CARD = "model-card.json";

    private ModelStore() {}

    /** A model name ({@code classifier-resnet}) resolved under {@code models/}, or a directory path as is. */
    public static Path resolve(String nameOrDir) {
        Path p = Path.of(nameOrDir);
        if (Files.isDirectory(p) && Files.exists(p.resolve(CARD))) {
            return p;
        }
        Path dir = LustraHome.models().resolve(nameOrDir);
        if (!Files.isRegularFile(dir.resolve(CARD))) {
            List<String> names = available();
            String choices = names.isEmpty() ? "no model is installed there" : "available: " + String.join(", ", names);
            throw new LustraException("Model '" + nameOrDir + "' not found in " + LustraHome.models() + " (" + choices
                    + "); run from the Lustra checkout, set LUSTRA_HOME, or train it with 'lustra train'.");
        }
        return dir;
    }

    /** Names of the models under {@code models/} that have a model card, sorted; empty when there is none. */
    public static List<String> available() {
        Path root = LustraHome.models();
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve(CARD))).map(d -> d.getFileName().toString())
                    .sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    public static ModelCard readCard(Path dir) {
        return Json.read(dir.resolve(CARD), ModelCard.class);
    }

    /**
     * SHA-256 of a stored model's weight file (a name under models/ or a directory), as its card records it: every
     * load checks the file against it ({@link #verifiedWeights}), so a run that loaded the model ran on these bytes.
     */
    public static String sha256(String nameOrDir) {
        Path dir = resolve(nameOrDir);
        String hash = readCard(dir).sha256();
        if (hash == null) {
            throw new LustraException("Model card " + dir.resolve(CARD) + " lacks sha256; restore it or retrain the "
                    + "model.");
        }
        return hash;
    }

    /** Writes the block's parameters as safetensors (sorted by name) and the card with the file's hash. */
    public static ModelCard save(Block block, ModelCard card, Path dir) {
        Path weights = dir.resolve(WEIGHTS);
        Files2.writeAtomically(weights, encode(block));
        ModelCard done = card.withWeights(WEIGHTS, Files2.sha256(weights), Instant.now().toString());
        Json.writeAtomically(dir.resolve(CARD), done);
        return done;
    }

    /** Parameters as safetensors bytes, named by their DJL parameter path. */
    public static byte[] encode(Block block) {
        java.util.Map<String, NDArray> named = new java.util.LinkedHashMap<>();
        for (Pair<String, Parameter> p : block.getParameters()) {
            named.put(p.getKey(), p.getValue().getArray());
        }
        try (NDManager tmp = NDManager.newBaseManager()) {
            return SafeTensors.encode(named, tmp);
        }
    }

    /** Copies named arrays into the block's (initialised) parameters, checking names and shapes. */
    public static void decodeInto(Block block, InputStream in, NDManager manager, String source) {
        Map<String, NDArray> byName;
        try {
            byName = new HashMap<>(SafeTensors.decode(in, manager));
        } catch (RuntimeException e) {
            throw new LustraException("Weight file " + source + " cannot be decoded (" + e.getMessage()
                    + "); restore it from the repository or retrain.", e);
        }
        java.util.List<NDArray> loaded = new java.util.ArrayList<>(byName.values());
        for (Pair<String, Parameter> p : block.getParameters()) {
            NDArray src = byName.remove(p.getKey());
            NDArray dst = p.getValue().getArray();
            if (src == null) {
                throw new LustraException("Weight file " + source + " does not fit the architecture: parameter "
                        + p.getKey() + " is missing.");
            }
            if (!src.getShape().equals(dst.getShape())) {
                throw new LustraException("Weight file " + source + " does not fit the architecture: parameter "
                        + p.getKey() + " is " + src.getShape() + " in the file but " + dst.getShape() + " in the model.");
            }
            src.copyTo(dst);
        }
        if (!byName.isEmpty()) {
            throw new LustraException("Weight file " + source + " does not fit the architecture: it has extra "
                    + "parameters " + byName.keySet() + ".");
        }
        loaded.forEach(NDArray::close);
    }

    /** The weight file of a model directory after checking it exists and matches the card's SHA-256. */
    public static Path verifiedWeights(Path dir, ModelCard card) {
        if (card.weightsFile() == null || card.sha256() == null) {
            throw new LustraException("Model card " + dir.resolve(CARD) + " lacks weightsFile or sha256; restore it or "
                    + "retrain the model.");
        }
        Path weights = dir.resolve(card.weightsFile());
        if (!Files.isRegularFile(weights)) {
            throw new LustraException("Weight file " + weights + " is missing; restore it with git or retrain the model.");
        }
        String hash = Files2.sha256(weights);
        if (!hash.equalsIgnoreCase(card.sha256())) {
            throw new LustraException("Weight file " + weights + " does not match its model card (SHA-256 " + hash
                    .substring(0, 12) + "… instead of " + card.sha256().substring(0, 12) + "…): it was modified or "
                    + "damaged; restore it with 'git checkout -- " + dir + "' or retrain.");
        }
        return weights;
    }

    /** Loads a classifier from a model directory or name, verifying hash and architecture. */
    public static NetClassifier loadClassifier(String nameOrDir) {
        Path dir = resolve(nameOrDir);
        ModelCard card = readCard(dir);
        if (card.architecture() == null) {
            throw new LustraException("Model card " + dir.resolve(CARD) + " has no classifier architecture; '"
                    + nameOrDir + "' is not a classifier.");
        }
        Path weights = verifiedWeights(dir, card);
        ClassifierNet net = card.architecture().build();
        NDManager manager = NDManager.newBaseManager();
        try {
            net.initialize(manager, DataType.FLOAT32, net.inputShape(1));
            try (InputStream in = Files.newInputStream(weights)) {
                decodeInto(net, in, manager, weights.toString());
            }
        } catch (IOException e) {
            manager.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
        return new NetClassifier(card.name(), net, manager, card.classNames());
    }

    /** Total number of scalars in a block's parameters. */
    public static long parameterCount(Block block) {
        long n = 0;
        for (Pair<String, Parameter> p : block.getParameters()) {
            n += p.getValue().getArray().getShape().size();
        }
        return n;
    }
}
