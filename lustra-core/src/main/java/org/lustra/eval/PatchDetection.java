package org.lustra.eval;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Why a patch defence held or failed, per cell: for defences that mask a region and replace it (DIFFender, SAC-like,
 * Jedi, DW), whether the region the first judging evaluation replaced covered the true patch
 * ({@link SampleRecord#patchMasked}), crossed with the verdict. A fooled image whose patch was covered beat the
 * replacement; a fooled image whose patch was not covered evaded the detector (issue 11: "show where detection is
 * evaded").
 */
final class PatchDetection {
    /** A patch counts as detected when at least this share of its pixels was replaced. */
    static final double DETECTED = 0.5;

    private PatchDetection() {}

    /** One cell's counts over its records with a measurement. */
    record Counts(int images, double meanMasked, int robustDetected, int robustEvaded, int fooledDetected,
            int fooledEvaded) {}

    /** Per cell (in the order first seen), the counts of its records that carry {@code patchMasked}. */
    static Map<String, Counts> of(List<SampleRecord> records) {
        Map<String, double[]> acc = new LinkedHashMap<>();
        for (SampleRecord r : records) {
            if (r.patchMasked() == null) {
                continue;
            }
            double[] a = acc.computeIfAbsent(r.cell(), k -> new double[6]);
            boolean detected = r.patchMasked() >= DETECTED;
            a[0]++;
            a[1] += r.patchMasked();
            a[r.robust() ? (detected ? 2 : 3) : (detected ? 4 : 5)]++;
        }
        Map<String, Counts> out = new LinkedHashMap<>();
        acc.forEach((cell, a) -> out.put(cell, new Counts((int) a[0], a[1] / a[0], (int) a[2], (int) a[3], (int) a[4],
                (int) a[5])));
        return out;
    }

    /** The report's section, empty when no record carries a measurement (ℓp attacks, defences that do not mask). */
    static String markdown(List<SampleRecord> records) {
        Map<String, Counts> cells = of(records);
        if (cells.isEmpty()) {
            return "";
        }
        StringBuilder md = new StringBuilder("\n## Patch detection\n\nFor defences that mask a region and replace "
                + "it: the share of the true patch's pixels inside the region the first judging evaluation replaced, "
                + String.format(Locale.ROOT, "and the verdict; *detected* means at least %.0f %% of the patch was ",
                        100 * DETECTED)
                + "replaced. Fooled and detected: the replacement did not remove the attack; fooled and not detected: "
                + "the detector was evaded. Worst-of cells list each route's cell too (`@ROUTE`).\n\n"
                + "| cell | images | mean share of the patch replaced | robust, detected | robust, not detected "
                + "| fooled, detected | fooled, not detected |\n|---|---|---|---|---|---|---|\n");
        cells.forEach((cell, c) -> md.append(String.format(Locale.ROOT, "| %s | %d | %.3f | %d | %d | %d | %d |%n",
                cell, c.images(), c.meanMasked(), c.robustDetected(), c.robustEvaded(), c.fooledDetected(),
                c.fooledEvaded())));
        return md.toString();
    }
}
