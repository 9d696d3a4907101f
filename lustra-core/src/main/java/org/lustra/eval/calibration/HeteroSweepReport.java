package org.lustra.eval.calibration;

import java.util.Locale;

/** The Markdown table of a {@link HeteroSweep.Result}: every candidate with its counts, the rule and the choice. */
public final class HeteroSweepReport {
    private HeteroSweepReport() {}

    public static String markdown(HeteroSweep.Result r) {
        HeteroSweep.Settings s = r.settings();
        int n = s.count();
        StringBuilder b = new StringBuilder();
        b.append("# Heterogeneous-noise purification: validation sweep\n\n");
        b.append(String.format(Locale.ROOT, "- Images: %s (%d), classifier %s, diffusion model %s.%n", s.images(), n,
                s.classifier(), s.diffusionModel()));
        b.append("- Robustness proxy: ").append(r.proxy()).append(".\n");
        b.append("- One purification draw per image; the same noise seeds for every candidate.\n");
        b.append(String.format(Locale.ROOT, "- Undefended on the same images: clean %s, transferred PGD %s.%n",
                count(((Number) r.reference().get("clean")).intValue(), n),
                count(((Number) r.reference().get("robust")).intValue(), n)));
        b.append("- Rule: ").append(r.rule()).append(".\n");
        b.append("- ").append(r.ruleMet() ? "Chosen: `" + r.chosen() + "`."
                : "No candidate met the rule; the one with the best clean accuracy is `" + r.chosen() + "`.");
        b.append(String.format(Locale.ROOT, " With %d images one image is %.1f points: differences of a few images are "
                + "noise (a 95 %% interval on a proportion near 0.8 is about ±%.0f points).%n%n", n, 100.0 / n,
                100 * 1.96 * Math.sqrt(0.16 / n)));
        b.append("| candidate | clean | PGD transfer | mask, clean | mask, adversarial | seconds |\n");
        b.append("|---|---:|---:|---:|---:|---:|\n");
        for (HeteroSweep.Row row : r.rows()) {
            boolean chosen = row.id().equals(r.chosen());
            if (row.reference()) {
                b.append(String.format(Locale.ROOT, "| `%s` (reference, not a candidate) | %s | %s | – | – | %.0f |%n",
                        row.spec(), count(row.clean(), n), count(row.robust(), n), row.seconds()));
                continue;
            }
            b.append(String.format(Locale.ROOT, "| %s`%s`%s | %s | %s | %.1f %% | %.1f %% | %.0f |%n",
                    chosen ? "**" : "", row.id(), chosen ? "**" : "", count(row.clean(), n), count(row.robust(), n),
                    100 * row.cleanMaskShare(), 100 * row.adversarialMaskShare(), row.seconds()));
        }
        b.append("\nCommand: `").append(r.command()).append("`  \nCreated ").append(r.created()).append(".\n");
        return b.toString();
    }

    private static String count(int k, int n) {
        return String.format(Locale.ROOT, "%d/%d (%.1f %%)", k, n, 100.0 * k / n);
    }
}
