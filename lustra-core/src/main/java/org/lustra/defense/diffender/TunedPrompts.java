package org.lustra.defense.diffender;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.model.ModelCard;
import org.lustra.model.ModelStore;
import org.lustra.util.Files2;
import org.lustra.util.Json;
import org.lustra.util.LustraException;
import org.lustra.util.LustraHome;
import org.lustra.util.SafeTensors;

/**
 * The shipped tuned prompts ({@code models/prompts-diffender}): prompt_L and prompt_R as whole token-embedding
 * sequences (L, D) in one safetensors file, with a model card that records how they were tuned and chosen.
 */
public final class TunedPrompts {
    public static final String NAME = "prompts-diffender";

    private TunedPrompts() {}

    /** Writes both prompts and the card (its weight file name and SHA-256 filled in); returns the card written. */
    public static ModelCard save(Path dir, Prompt promptL, Prompt promptR, int length, int dim, ModelCard card) {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> arrays = new LinkedHashMap<>();
            arrays.put("prompt_L", m.create(promptL.embeddings(), new Shape(length, dim)));
            arrays.put("prompt_R", m.create(promptR.embeddings(), new Shape(length, dim)));
            Files.createDirectories(dir);
            Path weights = dir.resolve(ModelStore.WEIGHTS);
            Files2.writeAtomically(weights, SafeTensors.encode(arrays, m));
            ModelCard done = card.withWeights(ModelStore.WEIGHTS, Files2.sha256(weights),
                    java.time.Instant.now().toString());
            Json.writeAtomically(dir.resolve(ModelStore.CARD), done);
            return done;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write tuned prompts to " + dir, e);
        }
    }

    /** Fails with the fix when the shipped prompts are missing. */
    public static void requireShipped() {
        if (!Files.isRegularFile(LustraHome.models().resolve(NAME).resolve(ModelStore.CARD))) {
            throw new LustraException("Tuned prompts models/" + NAME + " not found; create them with "
                    + "'lustra tune-prompts' (or use diffender:mp for the manual prompts).");
        }
    }

    /** {prompt_L, prompt_R} from a prompts directory or name, checked against the hash and {@code model}'s encoder. */
    public static Prompt[] load(String nameOrDir, DiffusionModel model) {
        Path dir;
        try {
            dir = ModelStore.resolve(nameOrDir);
        } catch (LustraException e) {
            throw new LustraException("Tuned prompts '" + nameOrDir + "' not found; create them with "
                    + "'lustra tune-prompts' (or use diffender:mp for the manual prompts).");
        }
        ModelCard card = ModelStore.readCard(dir);
        Path weights = ModelStore.verifiedWeights(dir, card);
        int length = model.config().contextLength();
        int dim = model.encoder().dim();
        try (NDManager m = NDManager.newBaseManager(); InputStream in = Files.newInputStream(weights)) {
            Map<String, NDArray> arrays = SafeTensors.decode(in, m);
            Prompt[] out = new Prompt[2];
            String[] keys = {"prompt_L", "prompt_R"};
            for (int i = 0; i < 2; i++) {
                NDArray a = arrays.get(keys[i]);
                if (a == null || !a.getShape().equals(new Shape(length, dim))) {
                    throw new LustraException("Tuned prompts " + weights + " lack " + keys[i] + " of shape (" + length
                            + ", " + dim + ") for this diffusion model (found " + (a == null ? "nothing" : a.getShape())
                            + "); re-run 'lustra tune-prompts'.");
                }
                out[i] = Prompt.learned(a.toFloatArray(), length, dim);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + weights, e);
        }
    }
}
