package org.lustra.defense.learned;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.lustra.model.ModelCard;
import org.lustra.model.ModelStore;
import org.lustra.util.LustraException;
import org.lustra.util.LustraHome;
import org.lustra.util.Versions;

/**
 * Shipped purifier networks: {@code models/NAME/weights.safetensors} and a model card whose {@code training} map holds
 * the method ({@value #KIND}) and the network configuration ({@value #NETWORK}) beside the optimiser settings — the
 * card has no field of its own for purifier networks, and these two entries are all a loader needs.
 */
public final class LearnedModels {
    /** Card key of the method ({@code maep}, {@code disco}). */
    public static final String KIND = "purifier_kind";
    /** Card key of the network configuration fields. */
    public static final String NETWORK = "purifier_network";

    private LearnedModels() {}

    /** The card's training map with the network's kind and configuration added. */
    public static Map<String, Object> trainingFields(PurifierNetwork network, Map<String, Object> training) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put(KIND, network.kind());
        out.put(NETWORK, network.configFields());
        out.putAll(training);
        return out;
    }

    /**
     * The model card of a finished run: the network's kind and configuration, the run's options, steps, skipped steps,
     * history and wall time, and the classifier the pairs were made against.
     */
    public static ModelCard card(String name, String role, PairTraining.Result r, PairTraining.Options opt,
            String classifier, List<String> classNames, String data, String split, String command) {
        Map<String, Object> training = new LinkedHashMap<>(opt.describe(r.network().kind()));
        training.put("pairs_against", classifier);
        training.put("steps_done", r.steps());
        training.put("skipped_steps", r.skippedSteps());
        training.put("engine_threads", System.getProperty("ai.djl.pytorch.num_threads", "default"));
        training.put("steps_per_second", Math.round(r.steps() / Math.max(1e-9, r.wallSeconds()) * 1000) / 1000.0);
        training.put("history", r.history());
        return new ModelCard(name, role, null, ModelStore.parameterCount(r.network().block()), classNames, data, split,
                command, opt.seed(), trainingFields(r.network(), training), Math.round(r.wallSeconds() * 10) / 10.0,
                null, null, Versions.describe(), null, null, null);
    }

    /** Writes the weights and the card (whose training map must come from {@link #trainingFields}). */
    public static ModelCard save(PurifierNetwork network, ModelCard card, Path dir) {
        if (card.training() == null || !network.kind().equals(card.training().get(KIND))) {
            throw new IllegalArgumentException("Model card of " + card.name() + " lacks " + KIND + " = "
                    + network.kind() + "; build its training map with LearnedModels.trainingFields");
        }
        return ModelStore.save(network.block(), card, dir);
    }

    /**
     * Writes a mask network's weights and card: the card's training map gets the network's kind and configuration a
     * loader needs first, then the card's own entries; the parameter count is the network's.
     */
    public static ModelCard save(String kind, MaskNetwork network, ModelCard card, Path dir) {
        Map<String, Object> training = new LinkedHashMap<>();
        training.put(KIND, kind);
        training.put(NETWORK, network.configFields());
        if (card.training() != null) {
            training.putAll(card.training());
        }
        ModelCard full = new ModelCard(card.name(), card.role(), card.architecture(),
                ModelStore.parameterCount(network.block()), card.classNames(), card.data(), card.split(),
                card.command(), card.seed(), training, card.wallTimeSeconds(), card.metrics(), card.evaluations(),
                card.versions(), null, null, null);
        return ModelStore.save(network.block(), full, dir);
    }

    /** Whether {@code nameOrDir} (a name under models/ or a directory) holds a model card. */
    public static boolean exists(String nameOrDir) {
        Path asDir = Path.of(nameOrDir);
        return Files.isRegularFile(asDir.resolve(ModelStore.CARD))
                || Files.isRegularFile(LustraHome.models().resolve(nameOrDir).resolve(ModelStore.CARD));
    }

    /**
     * The model directory of {@code nameOrDir} (a name under models/ or a directory), after checking that a model card
     * is there and that it is a {@code kind} model; each failure is one sentence that says what to do.
     */
    public static Path requireTrained(String nameOrDir, String kind) {
        Path asDir = Path.of(nameOrDir);
        Path dir = Files.isRegularFile(asDir.resolve(ModelStore.CARD)) ? asDir : LustraHome.models().resolve(nameOrDir);
        if (!Files.isRegularFile(dir.resolve(ModelStore.CARD))) {
            throw new LustraException("The " + kind + " model '" + nameOrDir + "' is not trained yet (no "
                    + dir.resolve(ModelStore.CARD) + "); train it with 'lustra train " + kind + "'.");
        }
        ModelCard card = ModelStore.readCard(dir);
        Object found = card.training() == null ? null : card.training().get(KIND);
        if (!kind.equals(found)) {
            throw new LustraException("Model '" + nameOrDir + "' is " + (found == null ? "not a purifier network"
                    : "a " + found + " model") + ", not a " + kind + " model; train one with 'lustra train " + kind
                    + "'" + (found == null ? "" : " or use " + found + ":" + nameOrDir) + ".");
        }
        return dir;
    }

    /**
     * Loads the network of a {@code kind} model, checking the card's kind and the weights' hash; {@code create}
     * builds the network from the card's configuration fields in the given manager (which the network then owns).
     * Parameters are frozen: gradients flow to the input only.
     */
    public static <N extends TrainedNetwork> N load(String nameOrDir, String kind,
            BiFunction<Map<String, Object>, NDManager, N> create) {
        Path dir = requireTrained(nameOrDir, kind);
        ModelCard card = ModelStore.readCard(dir);
        @SuppressWarnings("unchecked")
        Map<String, Object> config = (Map<String, Object>) card.training().get(NETWORK);
        Path weights = ModelStore.verifiedWeights(dir, card);
        NDManager manager = NDManager.newBaseManager();
        try (InputStream in = Files.newInputStream(weights)) {
            N network = create.apply(config, manager);
            ModelStore.decodeInto(network.block(), in, manager, weights.toString());
            network.block().freezeParameters(true);
            return network;
        } catch (IOException e) {
            manager.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }
}
