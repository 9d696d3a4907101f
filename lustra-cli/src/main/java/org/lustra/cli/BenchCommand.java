package org.lustra.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.lustra.data.FashionMnist;
import org.lustra.defense.DefendedClassifier;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.Purifier;
import org.lustra.defense.diffpure.DiffPure;
import org.lustra.diffusion.Captions;
import org.lustra.diffusion.DiffusionConfig;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.model.Classifier;
import org.lustra.nn.GroupNorm;
import org.lustra.nn.GroupNorm.Kernel;
import org.lustra.util.Json;
import org.lustra.util.LustraHome;
import org.lustra.util.Versions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure speed and memory in one run, against a ceiling measured in the same run: the "
                + "best GFLOP/s of fp32 matmul (512^3, 1024^3, 2048^3) and of the UNet's own 3x3 "
                + "convolutions at batch 64.",
            "Lines: GroupNorm+SiLU per kernel; UNet forward at batch 1/16/64 and forward+backward "
                + "to the input (weights frozen) at batch 16/64, old (batch_norm) and new (native) "
                + "GroupNorm side by side, in %% of the ceiling; DiffPure images/s per sampler; "
                + "DIFFender images/s (the default and the manual-prompt spec); one EXACT gradient through DiffPure (t* 0.1, DDIM 10); MAEP and DISCO "
                + "images/s and their EXACT gradient; diffusion "
                + "training steps/s (batch 64, AdamW); peak RSS after every line; peak RSS of `lustra sample` "
                + "at 1000 vs 20 DDIM steps, each in a fresh JVM.",
            "It warms up and reports medians. It uses the shipped diffusion-unified and "
                + "classifier-resnet when present, else randomly initialised ones of the same shape "
                + "(speed does not depend on the weights).",
            "The engine's thread count is set once per JVM; to measure one intra-op thread:",
            "  LUSTRA_JAVA_OPTS=-Dai.djl.pytorch.num_threads=1 ./lustra bench"})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--quick", description = "Fewer repetitions, no 2048^3 matmul (a smoke run).")
    boolean quick;

    @Option(names = "--out", paramLabel = "FILE",
            description = "JSON output (default: target/bench.json in the checkout, else a temporary folder).")
    Path out;

    @Option(names = "--record", description = "Also write docs/bench.json (the numbers the README quotes).")
    boolean record;

    @Option(names = "--hetero-only", description = "Only the hetero lines: single-step vs multi-step (RePaint) "
            + "resampling at U = 20, time and peak memory of purification and of one gradient, as ratios.")
    boolean heteroOnly;

    @Option(names = "--memory-only", description = "Only the memory lines: peak RSS of `lustra sample` at 20 and "
            + "1000 DDIM steps, each in a fresh JVM with this one's options, and their ratio.")
    boolean memoryOnly;

    @Option(names = "--profile", description = "Only the profile lines: PyTorch's profiler over 3 UNet forwards "
            + "and forward+backward passes at batch 64, self time per operator and per kind (convolution, matrix "
            + "product, normalisation, other); Chrome traces written next to the JSON output.")
    boolean profile;

    static final int PROFILE_RUNS = 3;
    static final String CEILING_LABEL = "ceiling = best of matmul and the UNet's conv kernels, this run";
    static final String ONE_THREAD = "LUSTRA_JAVA_OPTS=-Dai.djl.pytorch.num_threads=1 ./lustra bench";
    static final int BATCH = 64;
    static final int PIPELINE_BATCH = 16;
    /**
     * FLOPs of forward+backward to the input, in forward passes. With the weights frozen the engine computes no
     * weight gradients, so each convolution's backward is one input-gradient convolution (as many FLOPs as its
     * forward): 2×, not the 3× of training, which would overstate the rate by half (DJL-NOTES: freezing took an
     * attack step from 310 to 209 ms, the same 3 : 2).
     */
    static final int INPUT_GRADIENT_PASSES = 2;
    static final int TRAINING_PASSES = 3;

    @Override
    public Integer call() {
        if ((heteroOnly ? 1 : 0) + (memoryOnly ? 1 : 0) + (profile ? 1 : 0) > 1) {
            throw new IllegalArgumentException("--hetero-only, --memory-only and --profile exclude each other: give "
                    + "one of them.");
        }
        Path target = BenchOutput.resolve(out);
        Path docs = record ? BenchOutput.docs() : null;
        Kernel pipelineKernel = Kernel.configured(); // a bad -Dlustra.groupnorm fails here, before any timing
        long started = System.nanoTime();
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("command", "lustra bench" + (quick ? " --quick" : "") + (heteroOnly ? " --hetero-only" : "")
                + (memoryOnly ? " --memory-only" : "") + (profile ? " --profile" : "") + (out != null ? " --out " + out : "")
                + (record ? " --record" : ""));
        json.put("started", Instant.now().toString());
        json.put("load_average_start", BenchReport.loadAverage());
        BenchTiming kernels = quick ? new BenchTiming(1, 3) : new BenchTiming(2, 7);
        BenchTiming unet = quick ? new BenchTiming(1, 3) : new BenchTiming(2, 5);
        BenchTiming pipelines = quick ? new BenchTiming(1, 1) : new BenchTiming(1, 3);
        BenchReport report = new BenchReport(System.out);
        Map<String, Object> summary = new LinkedHashMap<>();
        double peakBeforeReset = 0;
        boolean shipped = Files.isRegularFile(LustraHome.models().resolve(DiffusionModel.DEFAULT)
                .resolve("model-card.json"));
        try (NDManager nd = NDManager.newBaseManager();
                DiffusionModel model = shipped ? DiffusionModel.load(DiffusionModel.DEFAULT)
                        : DiffusionModel.create(DiffusionConfig.fashionMnist(new Captions(FashionMnist.CLASSES)
                                .vocabulary()), NDManager.newBaseManager(), 1);
                Classifier cls = BenchPipelines.classifier()) {
            model.net().freezeParameters(true);
            describeRun(report, json, model, shipped, cls, kernels, unet, pipelines);

            if (profile) {
                json.put("profile", BenchProfile.lines(report, model, nd, BATCH, PROFILE_RUNS,
                        target.toAbsolutePath().getParent()));
            }
            if (!heteroOnly && !memoryOnly && !profile) {
                standardLines(report, json, summary, model, nd, cls, pipelineKernel, kernels, unet, pipelines);
            }
            if (!memoryOnly && !profile) {
                Map<String, Object> hetero = BenchHetero.run(report, model, cls, nd, pipelines,
                        quick ? 8 : PIPELINE_BATCH, quick ? 4 : 8);
                json.put("hetero_resampling", hetero);
                peakBeforeReset = ((Number) hetero.get("process_peak_mb")).doubleValue();
                summary.put("hetero_purify_time_single_over_multi", hetero.get("purify_time_single_over_multi"));
                summary.put("hetero_exact_gradient_time_single_over_multi",
                        hetero.get("exact_gradient_recomputed_time_single_over_multi"));
            }
            boolean memoryLines = !heteroOnly && !profile;
            if (memoryLines && shipped) {
                Map<String, Object> memory = BenchMemory.run(report, quick);
                json.put("chain_memory", memory);
                summary.put("sample_peak_rss_ratio_1000_over_20_steps", memory.get("ratio_long_over_short"));
            } else if (memoryLines) {
                report.say("memory lines skipped: they run `lustra sample`, which needs the shipped diffusion-unified");
            }
        }
        // the hetero lines reset the kernel's peak mark per line and report the process's peak across their resets
        summary.put("peak_rss_mb", Math.max(BenchReport.peakRssMb(), peakBeforeReset));
        finish(report, json, summary, started, target, docs);
        return 0;
    }

    /** The run's setting into the JSON and the header line. */
    private void describeRun(BenchReport report, Map<String, Object> json, DiffusionModel model, boolean shipped,
            Classifier cls, BenchTiming kernels, BenchTiming unet, BenchTiming pipelines) {
        long flops = model.net().unetFlopsPerImage();
        json.put("versions", Versions.describe());
        Map<String, Object> threads = BenchReport.threads(ONE_THREAD);
        json.put("threads", threads);
        json.put("diffusion_model", shipped ? DiffusionModel.DEFAULT + " (shipped weights)"
                : "random weights, shipped shape");
        json.put("classifier", cls.name());
        json.put("unet_flops_per_image", flops);
        json.put("pipeline_inputs", "uniform random images in [0, 1], batch " + PIPELINE_BATCH);
        json.put("timing", ordered("kernels", kernels.toString(), "unet", unet.toString(), "pipelines",
                pipelines.toString()));
        report.say(String.format(Locale.ROOT, "lustra bench%s: %s %s, UNet %.0f MFLOP/image, "
                + "intra-op threads %s, load average %s", quick ? " --quick" : "", DiffusionModel.DEFAULT,
                shipped ? "(shipped weights)" : "(random weights)", flops / 1e6, threads.get("intra_op_engine"),
                json.get("load_average_start")));
        report.printHeader();
    }

    /** Wall time, load, summary and rows into the JSON; writes it (and docs/bench.json with --record). */
    private static void finish(BenchReport report, Map<String, Object> json, Map<String, Object> summary,
            long started, Path target, Path docs) {
        json.put("wall_seconds", (System.nanoTime() - started) / 1e9);
        json.put("load_average_end", BenchReport.loadAverage());
        json.put("summary", summary);
        json.put("rows", report.lines());
        report.say(String.format(Locale.ROOT, "Peak RSS %.0f MB; %.0f s; load average %s -> %s.",
                summary.get("peak_rss_mb"), json.get("wall_seconds"), json.get("load_average_start"),
                json.get("load_average_end")));
        Json.writeAtomically(target, json);
        report.say("Wrote " + target);
        if (docs != null && !docs.equals(target)) {
            Json.writeAtomically(docs, json);
            report.say("Recorded " + docs);
        }
    }

    /** Every line but the hetero ones: the ceiling, GroupNorm, the UNet, DiffPure, DIFFender, DiffPure's EXACT
     * gradient, MAEP and DISCO (images/s, EXACT gradient) and training. */
    private void standardLines(BenchReport report, Map<String, Object> json, Map<String, Object> summary,
            DiffusionModel model, NDManager nd, Classifier cls, Kernel pipelineKernel, BenchTiming kernels,
            BenchTiming unet, BenchTiming pipelines) {
        DiffusionConfig c = model.config();
        long flops = model.net().unetFlopsPerImage();
        double ceiling = ceilingLines(report, json, c, nd, kernels);
        Kernel oldKernel = Kernel.BATCH_NORM;
        Kernel newKernel = nativeLoads() ? Kernel.NATIVE : Kernel.LAYER_NORM;
        groupNormLines(report, json, c, nd, oldKernel, newKernel, pipelineKernel, kernels);

        // The UNet with the old and the new GroupNorm, alternating so that drift in machine load hits both.
        List<Map<String, Object>> comparisons = new ArrayList<>();
        Kernel[] oldNew = {oldKernel, newKernel};
        for (int batch : new int[] {1, 16, BATCH}) {
            comparisons.add(compareUnet(report, model, nd, false, batch, oldNew, unet, ceiling, flops));
        }
        for (int batch : new int[] {16, BATCH}) {
            comparisons.add(compareUnet(report, model, nd, true, batch, oldNew, unet, ceiling, flops));
        }
        json.put("unet_old_vs_new", comparisons);
        summary.put("ceiling_gflops", ceiling);
        for (Map<String, Object> cmp : comparisons) {
            String key = (cmp.get("label").equals("forward") ? "unet_forward" : "unet_forward_backward") + "_batch"
                    + cmp.get("batch");
            summary.put(key + "_pct_of_ceiling_new", cmp.get("pct_of_ceiling_new"));
            summary.put(key + "_speedup_new_over_old", cmp.get("new_over_old"));
        }

        // Pipelines, with the GroupNorm kernel this JVM uses by default.
        GroupNorm.useKernelEverywhere(model.net(), pipelineKernel);
        String gnNote = "gn " + name(pipelineKernel);
        Map<String, Double> diffenderIps = pipelineLines(report, summary, model, nd, cls, gnNote, pipelines);

        double sps = BenchPipelines.trainingStepsPerSecond(c, BATCH, unet);
        double trainGflops = sps * BATCH * flops * TRAINING_PASSES / 1e9;
        report.add("training", "diffusion train", "batch " + BATCH + ", AdamW, " + gnNote, sps, "steps/s",
                String.format(Locale.ROOT, "%.0f ms/step; %.1f GFLOP/s = %.0f%% of ceiling (3x forward FLOPs)",
                        1000 / sps, trainGflops, 100 * trainGflops / ceiling));
        summary.put("training_steps_per_second", sps);
        // the default since 3 December (before: the manual-prompt spec, now under its own key)
        summary.put("diffender_images_per_second", diffenderIps.get(DefenseSpec.DIFFENDER_DEFAULT));
        summary.put("diffender_mp_images_per_second", diffenderIps.get("diffender"));
        StringBuilder line = new StringBuilder("UNet, % of the ceiling with gn " + name(newKernel)
                + " (x new/old vs " + name(oldKernel) + "):");
        for (Map<String, Object> cmp : comparisons) {
            line.append(String.format(Locale.ROOT, " %s b%d %.0f%% (x%.2f);", cmp.get("label"), cmp.get("batch"),
                    cmp.get("pct_of_ceiling_new"), cmp.get("new_over_old")));
        }
        report.say(line.toString());
    }

    /**
     * The ceiling: matmul at several sizes and the UNet's own convolutions, this run, this machine state. Returns
     * the best GFLOP/s.
     */
    private double ceilingLines(BenchReport report, Map<String, Object> json, DiffusionConfig c, NDManager nd,
            BenchTiming kernels) {
        double ceiling = 0;
        String ceilingSource = "";
        for (int n : quick ? new int[] {512, 1024} : new int[] {512, 1024, 2048}) {
            double g = BenchKernels.matmulGflops(nd, n, kernels);
            report.add("ceiling", "matmul fp32", n + "^3", g, "GFLOP/s", "");
            if (g > ceiling) {
                ceiling = g;
                ceilingSource = "matmul " + n + "^3";
            }
        }
        int size = c.size();
        for (int w : c.widths()) {
            double g = BenchKernels.convGflops(nd, BATCH, w, size, kernels);
            String setting = w + "->" + w + " @" + size + "x" + size + ", batch " + BATCH;
            report.add("ceiling", "conv3x3", setting, g, "GFLOP/s", "2*N*Cout*Cin*9*H*W FLOPs");
            if (g > ceiling) {
                ceiling = g;
                ceilingSource = "conv3x3 " + setting;
            }
            size = (size + 1) / 2;
        }
        report.say(String.format(Locale.ROOT, "%s: %.1f GFLOP/s (%s)", CEILING_LABEL, ceiling, ceilingSource));
        json.put("ceiling", ordered("label", CEILING_LABEL, "gflops", ceiling, "source", ceilingSource));
        return ceiling;
    }

    /** GroupNorm alone, at the UNet's first level, every kernel this JVM can run, forward and forward+backward. */
    private static void groupNormLines(BenchReport report, Map<String, Object> json, DiffusionConfig c, NDManager nd,
            Kernel oldKernel, Kernel newKernel, Kernel pipelineKernel, BenchTiming kernels) {
        if (newKernel != Kernel.NATIVE) {
            report.say("The native group_norm kernel did not load; the new kernel measured is layer_norm.");
        }
        json.put("groupnorm", ordered("old", name(oldKernel), "new", name(newKernel), "pipelines",
                name(pipelineKernel)));
        Shape gn = new Shape(BATCH, c.widths()[0], c.size(), c.size());
        String gnShape = gn.toString().replace(", ", "x").replaceAll("[()]", "") + ", " + c.groups() + " groups";
        Kernel[] runnable = newKernel == Kernel.NATIVE ? Kernel.values()
                : new Kernel[] {Kernel.LAYER_NORM, oldKernel};
        for (Kernel k : runnable) {
            for (boolean backward : new boolean[] {false, true}) {
                double ms = BenchKernels.groupNormMillis(nd, k, gn, c.groups(), backward, kernels);
                report.add("groupnorm", "groupnorm+silu", name(k) + (backward ? ", forward+backward" : ", forward"),
                        ms, "ms", gnShape + ", per call");
            }
        }
    }

    /**
     * DiffPure per sampler, DIFFender (the shipped default, which `lustra purify` and the tables run, and the paper's
     * manual prompts, spec {@code diffender}), DiffPure's EXACT gradient, MAEP and DISCO. Returns DIFFender's images/s
     * per spec.
     */
    private static Map<String, Double> pipelineLines(BenchReport report, Map<String, Object> summary,
            DiffusionModel model, NDManager nd, Classifier cls, String gnNote, BenchTiming pipelines) {
        DiffusionConfig c = model.config();
        NDArray x = nd.randomUniform(0, 1, new Shape(PIPELINE_BATCH, c.channels(), c.size(), c.size()));
        for (DiffPure.Options o : List.of(DiffPure.Options.ddpm(0.1), DiffPure.Options.ddim(0.1, 20),
                DiffPure.Options.ddim(0.1, 10))) {
            DiffPure p = new DiffPure(model, o);
            double ips = BenchPipelines.purifyImagesPerSecond(p, x, pipelines);
            report.add("pipeline", "diffpure", p.name() + ", batch " + PIPELINE_BATCH, ips, "images/s",
                    String.format(Locale.ROOT, "%.2f s per batch; %s", PIPELINE_BATCH / ips, gnNote));
        }
        // the reconstruction signal of the default replaces the manual prompts' two guided localisation calls
        Map<String, Double> diffenderIps = new LinkedHashMap<>();
        for (String spec : List.of(DefenseSpec.DIFFENDER_DEFAULT, "diffender")) {
            Purifier diffender = DefenseSpec.parse(spec).build(() -> model, cls);
            double dips = BenchPipelines.purifyImagesPerSecond(diffender, x, pipelines);
            diffenderIps.put(spec, dips);
            report.add("pipeline", "diffender", spec + ", batch " + PIPELINE_BATCH, dips, "images/s",
                    String.format(Locale.ROOT, "%.2f s per batch; %s; %s", PIPELINE_BATCH / dips, gnNote,
                            diffender.name()));
        }
        DiffPure chain = new DiffPure(model, DiffPure.Options.ddim(0.1, 10));
        double gips = BenchPipelines.exactGradientImagesPerSecond(new DefendedClassifier(chain, cls), x,
                cls.classes(), pipelines);
        report.add("pipeline", "exact gradient", chain.name() + ", batch " + PIPELINE_BATCH, gips, "images/s",
                String.format(Locale.ROOT, "%.2f s per image: CE loss + input gradient, chain recomputed step by "
                        + "step; %s; %s", 1 / gips, cls.name(), gnNote));
        summary.put("exact_gradient_seconds_per_image", 1 / gips);
        BenchPipelines.learnedLines(report, summary, cls, x, PIPELINE_BATCH, pipelines);
        return diffenderIps;
    }

    /**
     * Forward (or forward+backward) images/s with GroupNorm kernel {@code oldNew[0]}, then {@code oldNew[1]}: one line
     * each, and the comparison.
     */
    private static Map<String, Object> compareUnet(BenchReport report, DiffusionModel model, NDManager nd,
            boolean backward, int batch, Kernel[] oldNew, BenchTiming timing, double ceiling, long flops) {
        double[] ips = new double[2];
        double[] pct = new double[2];
        int passes = backward ? INPUT_GRADIENT_PASSES : 1;
        for (int i = 0; i < 2; i++) {
            GroupNorm.useKernelEverywhere(model.net(), oldNew[i]);
            double sec = backward ? BenchKernels.unetForwardBackwardSeconds(model, nd, batch, timing)
                    : BenchKernels.unetForwardSeconds(model, nd, batch, timing);
            ips[i] = batch / sec;
            double gflops = ips[i] * flops * passes / 1e9;
            pct[i] = 100 * gflops / ceiling;
            String note = String.format(Locale.ROOT, "%.1f GFLOP/s = %.0f%% of ceiling; %.2f ms/image%s", gflops,
                    pct[i], 1000 / ips[i], i == 0 ? "" : String.format(Locale.ROOT, "; x%.2f vs %s", ips[1] / ips[0],
                            name(oldNew[0])));
            String setting = "batch " + batch + ", gn " + name(oldNew[i]) + (i == 0 ? " (old)" : " (new)");
            report.add("unet", backward ? "unet fwd+bwd(x)" : "unet forward", setting, ips[i], "images/s", note);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("label", backward ? "fwd+bwd" : "forward");
        m.put("pass", backward ? "forward+backward to the input (weights frozen)" : "forward");
        m.put("batch", batch);
        m.put("flop_passes", passes);
        m.put("images_per_second_old", ips[0]);
        m.put("images_per_second_new", ips[1]);
        m.put("pct_of_ceiling_old", pct[0]);
        m.put("pct_of_ceiling_new", pct[1]);
        m.put("new_over_old", ips[1] / ips[0]);
        return m;
    }

    /** A map of alternating keys and values that keeps their order (the JSON file stays diff-able). */
    private static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    private static boolean nativeLoads() {
        try {
            GroupNorm.withSilu(1).useKernel(Kernel.NATIVE);
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    private static String name(Kernel k) {
        return k.name().toLowerCase(Locale.ROOT);
    }
}
