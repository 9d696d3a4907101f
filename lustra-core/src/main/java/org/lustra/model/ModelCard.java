package org.lustra.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The provenance and measured quality of a shipped model, stored as {@code model-card.json} next to its weights.
 * Immutable: changes make a new card.
 *
 * @param name model name, e.g. {@code classifier-resnet}
 * @param role what the model is for in Lustra
 * @param architecture architecture and configuration
 * @param parameterCount number of scalar parameters (BatchNorm running statistics included)
 * @param classNames class names in label order
 * @param data training data and where it came from
 * @param split which images trained it and which measured it
 * @param command the command that trained it
 * @param seed training seed
 * @param training optimiser settings, epochs and steps
 * @param wallTimeSeconds training wall time (summed over resumed runs)
 * @param metrics metrics reached, e.g. {@code test_accuracy}
 * @param evaluations how each metric was measured (command, image count)
 * @param versions DJL / PyTorch / Java / OS at training time
 * @param weightsFile weight file name, relative to the card
 * @param sha256 SHA-256 of the weight file
 * @param created ISO-8601 time the weights were written
 * @param diffusion configuration of a diffusion model as its JSON fields, in order (null for classifiers, whose
 *     {@code architecture} is set). A plain map, so that this package does not depend on the diffusion package that
 *     reads it back ({@code DiffusionConfig.fromCardFields}).
 */
public record ModelCard(String name, String role, Architecture architecture, long parameterCount,
        List<String> classNames, String data, String split, String command, long seed, Map<String, Object> training,
        double wallTimeSeconds, Map<String, Double> metrics, Map<String, String> evaluations,
        Map<String, String> versions, String weightsFile, String sha256, String created,
        Map<String, Object> diffusion) {

    /** A classifier card (no diffusion configuration). */
    public ModelCard(String name, String role, Architecture architecture, long parameterCount,
            List<String> classNames, String data, String split, String command, long seed,
            Map<String, Object> training, double wallTimeSeconds, Map<String, Double> metrics,
            Map<String, String> evaluations, Map<String, String> versions, String weightsFile, String sha256,
            String created) {
        this(name, role, architecture, parameterCount, classNames, data, split, command, seed, training,
                wallTimeSeconds, metrics, evaluations, versions, weightsFile, sha256, created, null);
    }

    public ModelCard {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("Invalid model card: empty name");
        }
        metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
        evaluations = evaluations == null ? Map.of() : Map.copyOf(evaluations);
        // not Map.copyOf: the card keeps the configuration's field order
        diffusion = diffusion == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(diffusion));
    }

    /** A copy with one more (or a replaced) metric and how it was measured. */
    public ModelCard withMetric(String key, double value, String how) {
        Map<String, Double> m = new LinkedHashMap<>(metrics);
        m.put(key, value);
        Map<String, String> e = new LinkedHashMap<>(evaluations);
        e.put(key, how);
        return new ModelCard(name, role, architecture, parameterCount, classNames, data, split, command, seed,
                training, wallTimeSeconds, m, e, versions, weightsFile, sha256, created, diffusion);
    }

    /** A copy recording the weight file's name and hash. */
    public ModelCard withWeights(String file, String hash, String createdAt) {
        return new ModelCard(name, role, architecture, parameterCount, classNames, data, split, command, seed,
                training, wallTimeSeconds, metrics, evaluations, versions, file, hash, createdAt, diffusion);
    }
}
