package org.lustra.eval;

import org.lustra.util.Seed;

/**
 * Every random stream of a run, derived by splitting from the run seed ({@link Seed}), in one place; the manifest
 * records {@link #DERIVATION}. Changing a derivation changes every record of every committed run.
 */
final class RunSeeds {
    private RunSeeds() {}

    /** How the run's random streams derive from its seeds (written into the manifest). */
    static final String DERIVATION = "util.Seed: per (run seed s, cell, chunk): Seed.of(s).child(\"cell:\" + id)"
            + ".child(chunk).child(\"attack\" | \"attack-purification\" | \"judge\" | \"example\"); clean votes "
            + "Seed.of(s).child(\"clean:\" + defence).child(chunk); AdvP patches Seed.of(s).child(\"patch:\" + owner) "
            + "(placements and initial patch), the defence's purifications during its training from that seed's "
            + ".child(\"purification\")";

    /** Appended to {@link #DERIVATION} in the manifest of a paired run ({@code "paired": true}). */
    static final String PAIRED = "; paired: the chunk streams derive from Seed.of(s).child(\"pair:\" + attack id + \"|\" "
            + "+ adaptive|nonadaptive).child(chunk) instead of the cell (the undefended row counts as nonadaptive), so "
            + "every defence row of an attack draws the same patch places, starts, restarts and judging votes (adaptive AdvP "
            + "patches still train per cell, from patch:<owner>)";

    /** The derivation a manifest records for a run. */
    static String derivation(Experiment exp) {
        return exp.pairedRows() ? DERIVATION + PAIRED : DERIVATION;
    }

    /**
     * The random streams of a chunk: the attack's own draws and the purifications it causes depend on (seed, cell,
     * chunk), or on (seed, attack, mode, chunk) when the rows are paired; the clean-accuracy votes on (seed, defence,
     * chunk) only, so every cell of a defence shares one clean accuracy; the judging votes of the adversarial inputs
     * are independent of the attack's streams.
     */
    record ChunkSeeds(long attack, long attackPurification, long judge, long clean, long example) {
        static ChunkSeeds of(long seed, Experiment.Cell cell, int chunk, boolean paired) {
            // paired rows: the key leaves out the defence, so the rows of one attack draw alike (common random numbers)
            String key = paired ? "pair:" + cell.attack().id() + "|" + (cell.adaptive() ? "adaptive" : "nonadaptive")
                    : "cell:" + cell.id();
            Seed chunkSeed = Seed.of(seed).child(key).child(chunk);
            return new ChunkSeeds(chunkSeed.child("attack").value(), chunkSeed.child("attack-purification").value(),
                    chunkSeed.child("judge").value(),
                    Seed.of(seed).child("clean:" + cell.defense()).child(chunk).value(),
                    chunkSeed.child("example").value());
        }

        /** The judging votes of one route's adversarial inputs ({@code tag} is ":" + route for worst-of, else ""). */
        long judge(String tag) {
            return Seed.of(judge).child("judge" + tag).value();
        }
    }

    /** The seed of a universal patch (AdvP) of one owner and run seed. */
    static long patchSeed(long seed, String owner) {
        return Seed.of(seed).child("patch:" + owner).value();
    }

    /**
     * The purification stream of a universal patch's training (a randomised defence's noise when the patch is trained
     * adaptively): derived from the patch's seed, so the patch is the same whichever chunk trains it.
     */
    static long patchPurification(long patchSeed) {
        return Seed.of(patchSeed).child("purification").value();
    }
}
