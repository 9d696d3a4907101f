package org.lustra.cli;

import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.util.LustraException;

/**
 * Where a measured piece of engine work spends its time: PyTorch's profiler records every operator of a few runs,
 * the trace (Chrome format) is kept, and it is summarised as <em>self</em> time per operator (an operator's time minus
 * the operators it called) and per kind (convolution, matrix product, normalisation, everything else). The bench's
 * "% of ceiling" says how far the UNet is from its best kernel; this says why: the share of its time in the kernels
 * that the ceiling measures at all.
 */
final class BenchProfile {
    private BenchProfile() {}

    /** One operator's totals over the profiled runs. */
    record OpTime(String name, int calls, double selfMs, double totalMs) {}

    /** The kinds an operator's self time is filed under, in report order. */
    enum Kind {
        CONVOLUTION, MATRIX_PRODUCT, NORMALISATION, OTHER;

        static Kind of(String op) {
            String n = op.toLowerCase(Locale.ROOT);
            if (n.contains("conv")) {
                return CONVOLUTION;
            }
            if (MATRIX_OPS.contains(n.replace("aten::", ""))) {
                return MATRIX_PRODUCT;
            }
            if (n.contains("norm")) {
                return NORMALISATION;
            }
            return OTHER;
        }

        private static final Set<String> MATRIX_OPS = Set.of("mm", "bmm", "addmm", "baddbmm", "matmul", "linear",
                "einsum", "_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_attention_math");
    }

    /**
     * The profile lines of {@code bench --profile}: the UNet forward and forward+backward to the input at batch
     * {@code batch}, {@code runs} runs each after one warm-up, each trace written into {@code dir}. Returns the JSON
     * section (per pass: traces, self time per kind, the operators with the most self time).
     */
    static Map<String, Object> lines(BenchReport report, DiffusionModel model, NDManager nd, int batch, int runs, Path dir) {
        Map<String, Object> json = new LinkedHashMap<>();
        for (boolean backward : new boolean[] {false, true}) {
            String pass = backward ? "fwd+bwd(x)" : "forward";
            Path trace = dir.resolve("profile-unet-" + (backward ? "fwdbwd" : "forward") + "-b" + batch + ".json");
            BenchTiming once = new BenchTiming(0, 1); // one pass per profiled run
            Consumer<Integer> run = i -> {
                if (backward) {
                    BenchKernels.unetForwardBackwardSeconds(model, nd, batch, once);
                } else {
                    BenchKernels.unetForwardSeconds(model, nd, batch, once);
                }
            };
            run.accept(-1); // the first calls of a shape are slow (DJL-NOTES); keep them out of the profile
            record(trace, runs, run);
            List<OpTime> ops = summarise(trace);
            double all = ops.stream().mapToDouble(OpTime::selfMs).sum();
            Map<String, Object> kinds = new LinkedHashMap<>();
            for (Map.Entry<Kind, Double> k : byKind(ops).entrySet()) {
                double pct = 100 * k.getValue() / all;
                kinds.put(k.getKey().name().toLowerCase(Locale.ROOT), Map.of("self_ms", k.getValue(), "pct", pct));
                report.add("profile", "unet " + pass + " by kind", k.getKey().name().toLowerCase(Locale.ROOT)
                        + ", batch " + batch, pct, "% self", String.format(Locale.ROOT, "%.1f of %.1f ms over %d runs",
                                k.getValue(), all, runs));
            }
            List<Map<String, Object>> top = new ArrayList<>();
            for (OpTime op : ops.subList(0, Math.min(12, ops.size()))) {
                top.add(Map.of("op", op.name(), "calls", op.calls(), "self_ms", op.selfMs(), "total_ms",
                        op.totalMs()));
                report.add("profile", "unet " + pass + " op", op.name(), 100 * op.selfMs() / all, "% self",
                        String.format(Locale.ROOT, "%d calls, %.1f ms self, %.1f ms total", op.calls(), op.selfMs(),
                                op.totalMs()));
            }
            json.put(backward ? "forward_backward" : "forward", Map.of("trace", trace.toString(), "kinds", kinds,
                    "top_ops", top));
        }
        return json;
    }

    /** Runs {@code body} {@code runs} times under the profiler and writes the Chrome trace to {@code trace}. */
    static void record(Path trace, int runs, Consumer<Integer> body) {
        try {
            Files.createDirectories(trace.toAbsolutePath().getParent());
        } catch (IOException e) {
            throw new LustraException("Cannot create the folder of the profile trace " + trace + ": " + e.getMessage()
                    + "; give --profile a writable path.", e);
        }
        JniUtils.startProfile(false, false, false);
        try {
            for (int i = 0; i < runs; i++) {
                body.accept(i);
            }
        } finally {
            JniUtils.stopProfile(trace.toString());
        }
    }

    /** Self and total time per operator name from a Chrome trace, largest self time first. */
    static List<OpTime> summarise(Path trace) {
        List<Event> events = readEvents(trace);
        if (events.isEmpty()) {
            throw new LustraException("The profile trace " + trace + " holds no complete (\"ph\": \"X\") events; "
                    + "the engine's profiler wrote nothing this bench can read.");
        }
        double[] childMicros = new double[events.size()];
        // Per thread, events sorted by start (longest first on ties) nest like a call stack: an event's parent is the
        // innermost open event that has not ended when it starts.
        Map<String, List<Integer>> byThread = new LinkedHashMap<>();
        for (int i = 0; i < events.size(); i++) {
            byThread.computeIfAbsent(events.get(i).thread(), k -> new ArrayList<>()).add(i);
        }
        for (List<Integer> ids : byThread.values()) {
            ids.sort(Comparator.<Integer>comparingDouble(i -> events.get(i).start())
                    .thenComparing(i -> -events.get(i).duration()));
            Deque<Integer> open = new ArrayDeque<>();
            for (int i : ids) {
                Event e = events.get(i);
                while (!open.isEmpty() && events.get(open.peek()).end() <= e.start()) {
                    open.pop();
                }
                if (!open.isEmpty()) {
                    childMicros[open.peek()] += e.duration();
                }
                open.push(i);
            }
        }
        Map<String, double[]> totals = new LinkedHashMap<>(); // name -> {calls, self µs, total µs}
        for (int i = 0; i < events.size(); i++) {
            Event e = events.get(i);
            double[] t = totals.computeIfAbsent(e.name(), k -> new double[3]);
            t[0]++;
            t[1] += Math.max(0, e.duration() - childMicros[i]);
            t[2] += e.duration();
        }
        List<OpTime> ops = new ArrayList<>();
        totals.forEach((name, t) -> ops.add(new OpTime(name, (int) t[0], t[1] / 1000, t[2] / 1000)));
        ops.sort(Comparator.comparingDouble(OpTime::selfMs).reversed());
        return ops;
    }

    /** Self milliseconds per {@link Kind}, every kind present (0 when none of its operators ran). */
    static Map<Kind, Double> byKind(List<OpTime> ops) {
        Map<Kind, Double> m = new LinkedHashMap<>();
        for (Kind k : Kind.values()) {
            m.put(k, 0.0);
        }
        for (OpTime op : ops) {
            m.merge(Kind.of(op.name()), op.selfMs(), Double::sum);
        }
        return m;
    }

    private record Event(String name, String thread, double start, double duration) {
        double end() {
            return start + duration;
        }
    }

    private static List<Event> readEvents(Path trace) {
        JsonElement root;
        try (Reader r = Files.newBufferedReader(trace)) {
            root = JsonParser.parseReader(r);
        } catch (IOException | RuntimeException e) {
            throw new LustraException("Cannot read the profile trace " + trace + ": " + e.getMessage(), e);
        }
        // The legacy profiler writes a bare array; Kineto wraps it as {"traceEvents": [...]}.
        JsonArray array = root.isJsonArray() ? root.getAsJsonArray()
                : root.isJsonObject() && root.getAsJsonObject().has("traceEvents")
                        ? root.getAsJsonObject().getAsJsonArray("traceEvents") : new JsonArray();
        List<Event> events = new ArrayList<>();
        for (JsonElement el : array) {
            if (!el.isJsonObject()) {
                continue;
            }
            JsonObject o = el.getAsJsonObject();
            if (!o.has("ph") || !"X".equals(o.get("ph").getAsString()) || !o.has("dur") || !o.has("ts")) {
                continue;
            }
            String thread = (o.has("pid") ? o.get("pid").getAsString() : "") + "/"
                    + (o.has("tid") ? o.get("tid").getAsString() : "");
            events.add(new Event(o.get("name").getAsString(), thread, o.get("ts").getAsDouble(),
                    o.get("dur").getAsDouble()));
        }
        return events;
    }
}
