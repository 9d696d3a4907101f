package org.lustra.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.lustra.defense.diffpure.DiffPure;
import org.lustra.diffusion.Captions;
import org.lustra.diffusion.DiffusionConfig;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSource;
import org.lustra.data.FashionMnist;
import org.lustra.util.Json;
import org.lustra.util.LustraHome;
import org.lustra.util.Versions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure speed and memory: the engine's large matrix-multiply GFLOP/s (the practical ceiling),",
            "the UNet forward at batch 1/16/64 with its achieved GFLOP/s, and DiffPure images/s per sampler.",
            "Uses the shipped diffusion-unified if present, else a randomly initialised one of the same shape",
            "(speed does not depend on the weights). Warms up before timing; prints a table and writes JSON."})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--out", description = "JSON output (default: docs/bench.json).")
    Path out;

    @Option(names = "--quick", description = "Fewer repetitions (for a smoke run).")
    boolean quick;

    record Row(String what, String setting, double value, String unit, String note) {}

    @Override
    public Integer call() throws IOException {
        List<Row> rows = new ArrayList<>();
        int reps = quick ? 1 : 3;
        try (NDManager nd = NDManager.newBaseManager()) {
            double matmul = matmulGflops(nd, quick ? 1024 : 2048, reps + 2);
            rows.add(new Row("matmul fp32", quick ? "1024^3" : "2048^3", matmul, "GFLOP/s", "practical ceiling"));

            // The UNet's building blocks in isolation, at batch 64: is the network slow, or are its layers?
            for (int[] sh : new int[][] {{32, 28}, {64, 14}, {96, 7}}) {
                double g = convGflops(nd, 64, sh[0], sh[1], reps + 1);
                rows.add(new Row("conv3x3", sh[0] + "->" + sh[0] + " @" + sh[1] + "x" + sh[1] + ", batch 64", g,
                        "GFLOP/s", String.format(Locale.ROOT, "%.0f%% of matmul", 100 * g / matmul)));
            }
            rows.add(new Row("groupnorm", "8 groups, 64x32x28x28", groupNormMillis(nd, reps + 1), "ms",
                    "per call (batch-norm trick, affine included)"));

            boolean shipped = Files.isRegularFile(LustraHome.models().resolve("diffusion-unified/model-card.json"));
            DiffusionModel model = shipped ? DiffusionModel.load("diffusion-unified")
                    : DiffusionModel.create(DiffusionConfig.fashionMnist(new Captions(FashionMnist.CLASSES)
                            .vocabulary()), NDManager.newBaseManager(), 1);
            String source = shipped ? "shipped weights" : "random weights";
            DiffusionConfig c = model.config();
            long flops = model.net().unetFlopsPerImage();
            for (int batch : new int[] {1, 16, 64}) {
                double ips = unetImagesPerSecond(model, nd, batch, reps);
                rows.add(new Row("unet forward", "batch " + batch, ips, "images/s", String.format(Locale.ROOT,
                        "%.1f GFLOP/s (%.0f%% of matmul); %.1f ms/image; %s", ips * flops / 1e9,
                        100 * ips * flops / 1e9 / matmul, 1000 / ips, source)));
            }
            int n = 16;
            NDArray x = nd.randomUniform(0, 1, new Shape(n, c.channels(), c.size(), c.size()));
            for (DiffPure.Options o : List.of(DiffPure.Options.ddpm(0.1), DiffPure.Options.ddim(0.1, 10),
                    DiffPure.Options.ddim(0.1, 20))) {
                DiffPure p = new DiffPure(model, o);
                try (NDManager w = nd.newSubManager()) {
                    w.tempAttachAll(x);
                    p.purify(x, 0);
                }
                long t0 = System.nanoTime();
                for (int r = 0; r < (quick ? 1 : 2); r++) {
                    try (NDManager w = nd.newSubManager()) {
                        w.tempAttachAll(x);
                        p.purify(x, r + 1).toFloatArray();
                    }
                }
                double sec = (System.nanoTime() - t0) / 1e9 / (quick ? 1 : 2);
                rows.add(new Row("diffpure", p.name() + ", batch " + n, n / sec, "images/s", source));
            }
            model.close();
        }
        rows.add(new Row("peak RSS", "whole run", peakRssMb(), "MB", "VmHWM"));
        System.out.printf("%-14s %-32s %12s  %-9s %s%n", "what", "setting", "value", "unit", "note");
        for (Row r : rows) {
            System.out.printf(Locale.ROOT, "%-14s %-32s %12.1f  %-9s %s%n", r.what(), r.setting(), r.value(), r.unit(),
                    r.note());
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("versions", Versions.describe());
        json.put("threads", System.getProperty("ai.djl.pytorch.num_threads", "engine default"));
        json.put("rows", rows);
        Path target = out != null ? out : LustraHome.root().resolve("docs").resolve("bench.json");
        Json.writeAtomically(target, json);
        System.out.println("Wrote " + target);
        return 0;
    }

    static double matmulGflops(NDManager nd, int size, int reps) {
        try (NDManager w = nd.newSubManager()) {
            NDArray a = w.randomUniform(-1, 1, new Shape(size, size));
            NDArray b = w.randomUniform(-1, 1, new Shape(size, size));
            a.matMul(b).toFloatArray(); // warm-up
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                try (NDManager s = w.newSubManager()) {
                    s.tempAttachAll(a, b);
                    a.matMul(b).getFloat(0, 0);
                }
            }
            double sec = (System.nanoTime() - t0) / 1e9;
            return 2.0 * size * size * (double) size * reps / sec / 1e9;
        }
    }

    static double convGflops(NDManager nd, int batch, int channels, int size, int reps) {
        ai.djl.nn.Block conv = org.lustra.nn.Layers.conv(channels, 3, 1, true);
        try (NDManager w = nd.newSubManager()) {
            Shape in = new Shape(batch, channels, size, size);
            conv.setInitializer(new ai.djl.training.initializer.NormalInitializer(0.01f),
                    ai.djl.nn.Parameter.Type.WEIGHT);
            conv.initialize(w, ai.djl.ndarray.types.DataType.FLOAT32, in);
            NDArray x = w.randomUniform(-1, 1, in);
            var ps = new ai.djl.training.ParameterStore(w, false);
            double sec = secondsPerRun(w, 2, reps * 3, s -> {
                s.tempAttachAll(x);
                conv.forward(ps, new ai.djl.ndarray.NDList(x), false).singletonOrThrow().getFloat(0, 0, 0, 0);
            });
            return 2.0 * batch * channels * channels * 9 * size * size / sec / 1e9;
        }
    }

    static double groupNormMillis(NDManager nd, int reps) {
        org.lustra.nn.GroupNorm gn = new org.lustra.nn.GroupNorm(8);
        try (NDManager w = nd.newSubManager()) {
            Shape in = new Shape(64, 32, 28, 28);
            gn.initialize(w, ai.djl.ndarray.types.DataType.FLOAT32, in);
            NDArray x = w.randomUniform(-1, 1, in);
            var ps = new ai.djl.training.ParameterStore(w, false);
            return 1000 * secondsPerRun(w, 2, reps * 5, s -> {
                s.tempAttachAll(x);
                gn.forward(ps, new ai.djl.ndarray.NDList(x), false).singletonOrThrow().getFloat(0, 0, 0, 0);
            });
        }
    }

    static double unetImagesPerSecond(DiffusionModel model, NDManager nd, int batch, int reps) {
        DiffusionConfig c = model.config();
        NoiseSource noise = new NoiseSource(batch);
        try (NDManager w = nd.newSubManager()) {
            Shape shape = new Shape(batch, c.channels(), c.size(), c.size());
            NDArray xt = noise.normal(w, shape);
            NDArray mask = DiffusionModel.fullMask(xt);
            NDArray masked = w.zeros(shape);
            NDArray ctx = model.context(w, java.util.Collections.nCopies(batch, ""), false);
            int[] t = new int[batch];
            java.util.Arrays.fill(t, 100);
            int runs = batch == 1 ? 10 * reps : reps;
            double sec = secondsPerRun(w, batch == 1 ? 5 : 2, runs, s -> {
                s.tempAttachAll(xt, mask, masked, ctx);
                model.predictNoise(xt, t, mask, masked, ctx, false).getFloat(0, 0, 0, 0);
            });
            return batch / sec;
        }
    }

    /** Mean seconds of {@code body} over {@code runs} timed runs after {@code warm} untimed ones, each in a scope. */
    static double secondsPerRun(NDManager parent, int warm, int runs, java.util.function.Consumer<NDManager> body) {
        long t0 = 0;
        for (int i = 0; i < warm + runs; i++) {
            if (i == warm) {
                t0 = System.nanoTime();
            }
            try (NDManager s = parent.newSubManager()) {
                body.accept(s);
            }
        }
        return (System.nanoTime() - t0) / 1e9 / runs;
    }

    static double peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }
}
