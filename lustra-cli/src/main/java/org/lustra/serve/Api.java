package org.lustra.serve;

import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.lustra.app.Prediction;
import org.lustra.app.Purification;
import org.lustra.app.Workbench;
import org.lustra.data.ImageFiles;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.Purifier;
import org.lustra.model.Classifier;
import org.lustra.model.ModelStore;
import org.lustra.util.LustraException;

/**
 * The endpoints: each parses its request, decodes the image (size checked from the header first) on the HTTP thread,
 * and runs the model work on a worker through the bounded queue. Answers are JSON; images are PNGs in base64.
 */
final class Api {
    /** Defences offered on the page besides the server's default (all shipped, all quick enough for a demo). */
    private static final List<String> EXAMPLES = List.of("diffender", DefenseSpec.DIFFENDER_DEFAULT,
            "diffender:ep:rec:abar0.7", "diffpure:0.1:ddim10", "jpeg:75", "median:3", "bits:4", "lgs", "none");

    private final Workbench bench;
    private final WorkerPool pool;
    private final ServeOptions options;

    Api(Workbench bench, WorkerPool pool, ServeOptions options) {
        this.bench = bench;
        this.pool = pool;
        this.options = options;
    }

    void healthz(Context ctx) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", "ok");
        m.put("classifier", bench.classifier().name());
        m.put("workers", pool.workers());
        m.put("busy", pool.active());
        m.put("queued", pool.queued());
        ctx.json(m);
    }

    void models(Context ctx) {
        Classifier c = bench.classifier();
        Map<String, Object> classifier = new LinkedHashMap<>();
        classifier.put("name", c.name());
        classifier.put("channels", c.channels());
        classifier.put("width", c.size());
        classifier.put("height", c.size());
        classifier.put("classes", c.classNames());
        Set<String> defenses = new LinkedHashSet<>();
        defenses.add(options.defense());
        for (String d : EXAMPLES) {
            try {
                defenses.add(DefenseSpec.parse(d).text());
            } catch (LustraException e) {
                // an example this build does not know is simply not offered
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("classifier", classifier);
        m.put("defense", options.defense());
        m.put("defenses", new ArrayList<>(defenses));
        m.put("defenseForms", DefenseSpec.FORMS);
        m.put("models", ModelStore.available());
        m.put("limits", Map.of("maxBodyBytes", options.maxBodyBytes(), "maxPixels", options.maxPixels()));
        m.put("workers", pool.workers());
        m.put("queue", options.queue());
        ctx.json(m);
    }

    void classify(Context ctx) throws Exception {
        long t0 = System.nanoTime();
        ImageRequest r = ImageRequest.from(ctx, options.defense());
        float[] x = decode(r);
        long t1 = System.nanoTime();
        Prediction p = pool.call(() -> bench.classify(x, 1, r.top())).get(0);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("classifier", bench.classifier().name());
        m.put("prediction", p);
        m.put("inputPng", png(x, bench.channels()));
        m.put("timings", timings(t0, t1, Double.NaN, Double.NaN));
        ctx.json(m);
    }

    void purify(Context ctx) throws Exception {
        long t0 = System.nanoTime();
        ImageRequest r = ImageRequest.from(ctx, options.defense());
        DefenseSpec spec = DefenseSpec.parse(r.defense());
        float[] x = decode(r);
        long t1 = System.nanoTime();
        Workbench.Batch b = pool.call(() -> bench.purify(bench.purifier(spec), x, 1, r.seed(), r.top()));
        Purification p = b.images().get(0);
        Purifier purifier = bench.purifier(spec);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("classifier", bench.classifier().name());
        m.put("defense", spec.text());
        m.put("purifier", purifier.name());
        m.put("randomized", purifier.randomized());
        m.put("seed", r.seed());
        m.put("before", p.before());
        m.put("after", p.after());
        m.put("changed", p.before().label() != p.after().label());
        m.put("inputPng", png(x, bench.channels()));
        m.put("purifiedPng", png(p.purified(), bench.channels()));
        putMask(m, p);
        m.put("timings", timings(t0, t1, b.timings().purifyMillis(), b.timings().classifyMillis()));
        ctx.json(m);
    }

    void localize(Context ctx) throws Exception {
        long t0 = System.nanoTime();
        ImageRequest r = ImageRequest.from(ctx, options.defense());
        DefenseSpec spec = DefenseSpec.parse(r.defense());
        float[] x = decode(r);
        long t1 = System.nanoTime();
        Workbench.Batch b = pool.call(() -> bench.purify(bench.localizer(spec), x, 1, r.seed(), r.top()));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("defense", spec.text());
        m.put("seed", r.seed());
        m.put("inputPng", png(x, bench.channels()));
        putMask(m, b.images().get(0));
        m.put("timings", timings(t0, t1, b.timings().purifyMillis(), Double.NaN));
        ctx.json(m);
    }

    /** Header checked first (pixel budget, expected size unless resize), then decoded at the model's input shape. */
    private float[] decode(ImageRequest r) {
        return ImageFiles.decode(r.image(), r.name(), bench.channels(), bench.size(), bench.size(), r.resize(),
                options.maxPixels());
    }

    private void putMask(Map<String, Object> m, Purification p) {
        if (p.hasMask()) {
            m.put("maskPng", png(p.mask(), 1));
            m.put("anomalyPng", png(p.anomaly(), 1));
            m.put("maskedFraction", p.maskedFraction());
        }
    }

    private String png(float[] chw, int channels) {
        return Base64.getEncoder().encodeToString(ImageFiles.encodePng(chw, channels, bench.size(), bench.size()));
    }

    /** Milliseconds: reading + decoding, waiting + working on a worker, and the total; NaN parts are left out. */
    private static Map<String, Double> timings(long t0, long t1, double purifyMillis, double classifyMillis) {
        long t2 = System.nanoTime();
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("decodeMs", round((t1 - t0) / 1e6));
        if (!Double.isNaN(purifyMillis)) {
            m.put("purifyMs", round(purifyMillis));
        }
        if (!Double.isNaN(classifyMillis)) {
            m.put("classifyMs", round(classifyMillis));
        }
        m.put("workerMs", round((t2 - t1) / 1e6));
        m.put("totalMs", round((t2 - t0) / 1e6));
        return m;
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }
}
