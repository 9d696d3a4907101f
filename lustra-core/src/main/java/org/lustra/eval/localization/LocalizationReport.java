package org.lustra.eval.localization;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.lustra.eval.localization.LocalizationSweep.Row;
import org.lustra.util.Files2;
import org.lustra.util.Json;

/**
 * A localisation sweep as {@code localization.json} (settings + every row) and {@code localization.md}: what was run
 * (images, seeds, fixed noise, model), the best configuration per patch kind by raw-mask IoU, and the whole grid.
 */
public final class LocalizationReport {
    private LocalizationReport() {}

    /** The report's contents: how it was made, then the rows. */
    public record Document(Map<String, Object> settings, List<Row> rows) {}

    /** Writes both files into {@code dir} (created); returns the Markdown. */
    public static String write(Path dir, Document doc) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create " + dir, e);
        }
        Json.writeAtomically(dir.resolve("localization.json"), doc);
        String md = markdown(doc);
        Files2.writeAtomically(dir.resolve("localization.md"), md.getBytes(StandardCharsets.UTF_8));
        return md;
    }

    static String markdown(Document doc) {
        StringBuilder b = new StringBuilder("# DIFFender localisation sweep\n\n");
        for (Map.Entry<String, Object> e : doc.settings().entrySet()) {
            b.append("- ").append(e.getKey()).append(": ").append(text(e.getValue())).append('\n');
        }
        b.append("\nIoU / precision / recall are means over images against the true patch mask; \"raw\" is M̂ = [Z > θ] "
                + "(and S/(2m) > floor when a floor is set), "
                + "\"refined\" adds blur + dilation + re-binarisation (SPEC §4.1). \"clean masked\" is the share of "
                + "pixels the same configuration masks on the clean images.\n\n## Best configuration per patch kind "
                + "(by raw-mask IoU)\n\n| kind | signal | x̂0 | ᾱ | θ | floor | raw IoU | refined IoU | clean "
                + "masked (refined) |\n|---|---|---|---|---|---|---|---|---|\n");
        Map<String, Double> cleanArea = cleanAreas(doc.rows());
        Map<String, List<Row>> byKind = doc.rows().stream().filter(r -> !r.kind().equals(LocalizationSweep.CLEAN))
                .collect(Collectors.groupingBy(Row::kind, LinkedHashMap::new, Collectors.toList()));
        for (Map.Entry<String, List<Row>> e : byKind.entrySet()) {
            Row best = e.getValue().stream().max(Comparator.comparingDouble(r -> r.raw().iou())).orElseThrow();
            b.append(String.format(Locale.ROOT, "| %s | %s | %s | %.2f | %.1f | %s | %.3f | %.3f | %s |%n",
                    best.kind(), best.signal(), clip(best), best.alphaBar(), best.theta(), floor(best), best.raw().iou(), best.refined().iou(),
                    pct(cleanArea.get(key(best)))));
        }
        b.append("\n## Every configuration\n\n| signal | x̂0 | ᾱ (t) | θ | floor | kind | n | raw IoU | raw P | raw R | "
                + "raw area | refined IoU | refined P | refined R | refined area |\n|---|---|---|---|---|---|---|---|---|"
                + "---|---|---|---|---|---|\n");
        for (Row r : doc.rows()) {
            b.append(String.format(Locale.ROOT, "| %s | %s | %.2f (%d) | %.1f | %s | %s | %d | %s | %s | %s | %s | %s "
                    + "| %s | %s | %s |%n", r.signal(), clip(r), r.alphaBar(), r.timestep(), r.theta(), floor(r), r.kind(),
                    r.images(),
                    num(r.raw().iou()), num(r.raw().precision()), num(r.raw().recall()), pct(r.raw().maskedFraction()),
                    num(r.refined().iou()), num(r.refined().precision()), num(r.refined().recall()),
                    pct(r.refined().maskedFraction())));
        }
        return b.toString();
    }

    private static Map<String, Double> cleanAreas(List<Row> rows) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Row r : rows) {
            if (r.kind().equals(LocalizationSweep.CLEAN)) {
                out.put(key(r), r.refined().maskedFraction());
            }
        }
        return out;
    }

    private static String key(Row r) {
        return r.signal() + "|" + r.clipX0() + "|" + r.alphaBar() + "|" + r.theta() + "|" + r.floor();
    }

    private static String floor(Row r) {
        return r.floor() == 0 ? "off" : String.format(Locale.ROOT, "%.3f", r.floor());
    }

    private static String clip(Row r) {
        return r.clipX0() ? "clipped" : "unclipped";
    }

    private static String num(Double v) {
        return v == null ? "–" : String.format(Locale.ROOT, "%.3f", v);
    }

    private static String pct(Double v) {
        return v == null ? "–" : String.format(Locale.ROOT, "%.1f %%", 100 * v);
    }

    private static String text(Object v) {
        if (v instanceof double[] a) {
            return java.util.Arrays.toString(a);
        }
        if (v instanceof boolean[] a) {
            return java.util.Arrays.toString(a);
        }
        if (v instanceof Map<?, ?> map) {
            StringBuilder b = new StringBuilder();
            map.forEach((k, x) -> b.append("\n  - ").append(k).append(": ").append(text(x)));
            return b.toString();
        }
        return String.valueOf(v);
    }
}
