package org.lustra.eval.worst;

import org.lustra.eval.SampleRecord;

/**
 * One image of one run seed: the unit a per-image worst case is taken over. Two runs name the same image by the same
 * key only when they read the same subset (checked by {@link CrossRunWorst}); the run seed is part of the key because
 * it draws the attack's random start and the defence's noise, so the same index under another seed is another trial.
 */
public record ImageKey(long seed, int index) {
    public static ImageKey of(SampleRecord r) {
        return new ImageKey(r.seed(), r.index());
    }
}
