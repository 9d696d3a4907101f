package org.lustra.diffusion;

import java.util.List;
import java.util.Map;
import org.lustra.util.Json;

/**
 * Configuration of the unified diffusion model, written into its model card.
 *
 * @param channels image channels C (the UNet takes 2C + 1)
 * @param size image height = width
 * @param widths UNet channels per resolution level
 * @param heads attention heads
 * @param groups GroupNorm groups
 * @param vocabulary prompt vocabulary in id order
 * @param contextLength prompt context length L
 * @param contextDim prompt token width D
 * @param encoderDepth prompt encoder transformer layers
 * @param steps diffusion steps T
 * @param betaStart first β
 * @param betaEnd last β
 */
public record DiffusionConfig(int channels, int size, int[] widths, int heads, int groups, List<String> vocabulary,
        int contextLength, int contextDim, int encoderDepth, int steps, double betaStart, double betaEnd) {

    public DiffusionConfig {
        if (channels < 1 || size < 4 || widths == null || widths.length < 1 || heads < 1 || groups < 1
                || contextLength < 3 || contextDim < 1 || encoderDepth < 0 || steps < 2) {
            throw new IllegalArgumentException("Invalid diffusion config: channels=" + channels + " size=" + size
                    + " levels=" + (widths == null ? 0 : widths.length) + " heads=" + heads + " groups=" + groups
                    + " context=" + contextLength + "x" + contextDim + " steps=" + steps);
        }
        for (int w : widths) {
            if (w % groups != 0 || w % heads != 0) {
                throw new IllegalArgumentException("Invalid UNet width " + w + ": must divide by groups (" + groups
                        + ") and heads (" + heads + ")");
            }
        }
        widths = widths.clone();
        vocabulary = List.copyOf(vocabulary);
    }

    /** The shipped model's configuration for 28×28 grayscale Fashion-MNIST (SPEC §3). */
    public static DiffusionConfig fashionMnist(List<String> vocabulary) {
        return new DiffusionConfig(1, 28, new int[] {32, 64, 96}, 4, 8, vocabulary, 24, 64, 2, 1000, 1e-4, 0.02);
    }

    /**
     * The configuration as the JSON fields a model card stores, in component order. Through the project's one JSON
     * configuration, so a card written from these fields is byte for byte the card written from the record.
     */
    public Map<String, Object> asCardFields() {
        return Json.toMap(this);
    }

    /** The configuration stored in a model card's fields (see {@link #asCardFields}), validated as any other. */
    public static DiffusionConfig fromCardFields(Map<String, Object> fields) {
        return Json.fromMap(fields, DiffusionConfig.class);
    }

    public NoiseSchedule schedule() {
        return NoiseSchedule.linear(steps, betaStart, betaEnd);
    }
}
