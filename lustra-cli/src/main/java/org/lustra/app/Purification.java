package org.lustra.app;

/**
 * One purified image: the predictions before and after, the purified pixels (CHW in [0, 1]) and, for a purifier that
 * says where it repainted ({@link org.lustra.defense.MaskingPurifier}), the mask (HW, 1 = repainted), the anomaly map
 * it was thresholded from (HW, scaled to [0, 1] per image for display) and the masked fraction of the image; those
 * three are {@code null} for other purifiers.
 */
public record Purification(Prediction before, Prediction after, float[] purified, float[] mask, float[] anomaly,
        Double maskedFraction) {

    public boolean hasMask() {
        return mask != null;
    }
}
