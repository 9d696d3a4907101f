package org.lustra.eval.worst;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import org.lustra.eval.SampleRecord;

/**
 * A defence's worst case over several attacks, per image: an image counts as robust only if it survived every attack
 * that has a record of it (an attacker picks, per image, the attack that works). The three scores are the harness's:
 * the first draw, the majority of K, and all K draws right.
 *
 * @param images images (of every run seed) the worst case is taken over
 * @param single robust in the first draw under every attack
 * @param majority robust by the majority of K under every attack
 * @param anyOfK robust in all K draws under every attack
 */
public record WorstCase(int images, int single, int majority, int anyOfK) {

    public WorstCase {
        if (images < 1 || single < 0 || majority < 0 || anyOfK < 0 || single > images || majority > images
                || anyOfK > majority) {
            throw new IllegalArgumentException("Invalid worst-case counts: " + single + ", " + majority + ", "
                    + anyOfK + " of " + images + " images (each in 0.." + images + ", any-of-K at most the majority)");
        }
    }

    /**
     * The worst case on {@code images} (not empty) over {@code cells} (each a cell's records by image); a cell without
     * a record of an image does not decide that image. {@code K} names an image: a run seed and index
     * ({@link ImageKey}), or an index alone when every seed's records count as tries.
     */
    public static <K> WorstCase over(Set<K> images, Collection<Map<K, SampleRecord>> cells) {
        int single = 0;
        int majority = 0;
        int anyOfK = 0;
        for (K image : images) {
            boolean singleRobust = true;
            boolean robust = true;
            boolean anyFooled = false;
            for (Map<K, SampleRecord> cell : cells) {
                SampleRecord r = cell.get(image);
                if (r == null) {
                    continue;
                }
                singleRobust &= r.singleDrawRobust();
                robust &= r.robust();
                anyFooled |= Boolean.TRUE.equals(r.anyCopyFooled()) || !r.robust();
            }
            single += singleRobust ? 1 : 0;
            majority += robust ? 1 : 0;
            anyOfK += robust && !anyFooled ? 1 : 0;
        }
        return new WorstCase(images.size(), single, majority, anyOfK);
    }

    /** {@code image} robust by the majority of K under every cell that has a record of it. */
    public static <K> boolean robust(K image, Collection<Map<K, SampleRecord>> cells) {
        return cells.stream().map(c -> c.get(image)).allMatch(r -> r == null || r.robust());
    }
}
