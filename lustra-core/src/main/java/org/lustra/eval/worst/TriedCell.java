package org.lustra.eval.worst;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.lustra.eval.SampleRecord;

/**
 * One cell of one run as the worst case reads it: its records by run seed and image index. The same index under
 * another run seed is the same image attacked again (another random start, other purifications): one more try, so an
 * image counts as robust under the cell only if every seed left it robust.
 *
 * @param run the run folder as the user named it
 * @param id the cell id
 * @param spec the defence spec the config wrote
 * @param attack what attacked: the attack family, mode and profile (the profile fixes the defaults a family leaves
 *     open: PGD runs 20 steps in the quick profile, 200 in the paper one)
 * @param gradientMode the manifest's gradient route text
 * @param bySeed records by run seed, then by image index
 */
record TriedCell(String run, String id, String spec, String mode, String attack, String gradientMode,
        Map<Long, Map<Integer, SampleRecord>> bySeed) {

    TriedCell {
        bySeed = Map.copyOf(bySeed);
    }

    /** The image indices any seed has a record of. */
    Set<Integer> indices() {
        Set<Integer> out = new TreeSet<>();
        bySeed.values().forEach(m -> out.addAll(m.keySet()));
        return out;
    }

    /** Robust (majority of K) under every seed that has a record of the image. */
    boolean robust(int index) {
        return WorstCase.robust(index, bySeed.values());
    }

    /** The records of each seed: the tries {@link WorstCase#over} takes. */
    Collection<Map<Integer, SampleRecord>> tries() {
        return bySeed.values();
    }
}
