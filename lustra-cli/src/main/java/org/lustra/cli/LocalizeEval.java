package org.lustra.cli;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.lustra.attack.AdvPatch;
import org.lustra.attack.AttackModel;
import org.lustra.attack.LogitRows;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.defense.diffender.Prompt;
import org.lustra.defense.diffender.PromptTuning.PatchedSet;
import org.lustra.defense.diffender.TunedPrompts;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.eval.UniversalPatches;
import org.lustra.eval.localization.LocalizationReport;
import org.lustra.eval.localization.LocalizationSweep;
import org.lustra.eval.masks.PatchedImages;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.util.LustraException;
import org.lustra.util.Versions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "localize", mixinStandardHelpOptions = true,
        description = {"How well DIFFender's localisation finds patches (SPEC §4.1): IoU, precision and recall of the "
                + "raw mask [Z > theta] and of the refined mask against the true patch masks, over signal (mp = manual "
                + "prompt, ep = empty prompt, tuned = prompts of --prompts, rec = one-step reconstruction error) x "
                + "abar x theta x patch kind, plus the share of pixels masked on the same images without a patch.",
            "Patches come from the project's attacks (LaVAN, AdvP's universal patch, GDPA-like) against --classifier, "
                + "or, with --patches random|checkerboard, from a synthetic square (no attack; quick).",
            "Runs on data/validation images 4500.. by default (tuning data never comes from eval512); writes "
                + "localization.json and localization.md under --out."})
final class LocalizeEval implements Callable<Integer> {
    @Option(names = "--model", defaultValue = DiffusionModel.DEFAULT, description = "Diffusion model (default "
            + "${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--classifier", defaultValue = "classifier-resnet",
            description = "Classifier the patch attacks fool (default ${DEFAULT-VALUE}).")
    String classifier;

    @Option(names = "--split", defaultValue = "validation", description = "Image subset (default ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--from", defaultValue = "4500", description = "First image of the subset (default "
            + "${DEFAULT-VALUE}: validation 0..1999 train the AdvP patch, 4000.. validate prompt tuning).")
    int from;

    @Option(names = "--images", defaultValue = "64", description = "Images per patch kind (default ${DEFAULT-VALUE}).")
    int images;

    @Option(names = "--patches", defaultValue = "attacks",
            description = "attacks (the kinds of --kinds), random or checkerboard (default ${DEFAULT-VALUE}).")
    String patches;

    @Option(names = "--kinds", split = ",", defaultValue = "lavan,advp,gdpa",
            description = "Attack patch kinds for --patches attacks (default ${DEFAULT-VALUE}).")
    List<String> kinds;

    @Option(names = "--fraction", defaultValue = "0.05", description = "Patch area fraction (default ${DEFAULT-VALUE}).")
    double fraction;

    @Option(names = "--attack-steps", defaultValue = "100",
            description = "Iterations of LaVAN and GDPA-like (default ${DEFAULT-VALUE}).")
    int attackSteps;

    @Option(names = "--signals", split = ",", defaultValue = "mp,ep,rec",
            description = "Signals: mp, ep, rec, tuned (default ${DEFAULT-VALUE}; tuned is added when --prompts "
                    + "is given).")
    List<String> signals;

    @Option(names = "--prompts", description = "Tuned prompts directory or name (adds the tuned signal).")
    String prompts;

    @Option(names = "--abar", split = ",", defaultValue = "0.3,0.5,0.7", description = "Noise levels (default "
            + "${DEFAULT-VALUE}).")
    double[] alphaBars;

    @Option(names = "--theta", split = ",", defaultValue = "1.5,2,2.5", description = "z-score thresholds (default "
            + "${DEFAULT-VALUE}).")
    double[] thetas;

    @Option(names = "--floor", split = ",", defaultValue = "0", description = "Absolute floors of the anomaly map per "
            + "repetition, in intensity units: a pixel is masked only where S/(2m) > floor as well as Z > theta "
            + "(0 = off, the paper's rule; default ${DEFAULT-VALUE}).")
    double[] floors;

    @Option(names = "--clip", defaultValue = "off",
            description = "x̂0 clip before differencing: off (SPEC §4.1), on (the old default) or both (default "
                    + "${DEFAULT-VALUE}).")
    String clip;

    @Option(names = "--full-length", description = "Run every attack iteration and keep the best objective (as the "
            + "harness's non-adaptive cells against DIFFender) instead of stopping each image at its first success on "
            + "the classifier: early-stopped patches are weaker.")
    boolean fullLength;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of patch places and attacks (default "
            + "${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--noise-seed", defaultValue = "7",
            description = "Seed of the localisation noise, fixed across configurations (default ${DEFAULT-VALUE}).")
    long noiseSeed;

    @Option(names = "--out", defaultValue = "out/localize", description = "Output folder (default ${DEFAULT-VALUE}).")
    Path out;

    @Override
    public Integer call() {
        List<LocalizationSweep.Signal> sig = signals();
        boolean[] clips = clipModes();
        List<PatchedImages.Kind> ks = patchKinds();
        Common.requireFolder(out, "--out");
        ImageSet set = Subsets.load(split);
        if (images < 1 || from < 0 || from + images > set.size()) {
            throw new LustraException("--from " + from + " --images " + images + " does not fit " + split + " ("
                    + set.size() + " images); choose from + images <= " + set.size() + ".");
        }
        LocalizationSweep.Config config = new LocalizationSweep.Config(sig, alphaBars, thetas, clips, noiseSeed, 64,
                floors);
        long t0 = System.nanoTime();
        try (NetClassifier c = ModelStore.loadClassifier(classifier);
                DiffusionModel dm = DiffusionModel.load(model);
                NDManager m = NDManager.newBaseManager()) {
            float[] clean = set.batch(m, from, from + images).toFloatArray();
            int[] labels = Arrays.copyOfRange(set.labels(), from, from + images);
            Shape shape = new Shape(c.channels(), c.size(), c.size());
            // per-image attacks: randomized = full length with one confirming vote (the classifier is deterministic);
            // the universal AdvP patch trains on the plain model, so its cache is shared either way
            AttackModel am = new AttackModel(c::logits, null, m, shape, 1, fullLength, 1);
            AttackModel plain = new AttackModel(c::logits, m, shape, 1);
            Map<String, PatchedSet> sets = new LinkedHashMap<>();
            Map<String, Object> patchInfo = new LinkedHashMap<>();
            for (PatchedImages.Kind k : ks) {
                long tk = System.nanoTime();
                AdvPatch.Trained[] advp = new AdvPatch.Trained[1];
                PatchedSet p = PatchedImages.makeSet(k, am, () -> {
                    advp[0] = advpPatch(plain, c.name());
                    return advp[0].patch();
                }, clean, labels, c.channels(), c.size(), fraction, attackSteps, seed);
                sets.put(k.id(), p);
                patchInfo.put(k.id(), describe(k, advp[0], c, p, (System.nanoTime() - tk) / 1e9));
                System.err.printf(Locale.ROOT, "patches %s ready (%.0f s)%n", k.id(), (System.nanoTime() - tk) / 1e9);
            }
            Prompt tuned = prompts == null ? null : TunedPrompts.load(prompts, dm)[0];
            long ts = System.nanoTime();
            LocalizationSweep sweep = new LocalizationSweep(dm, config);
            List<LocalizationSweep.Row> rows = sweep.run(sets, clean, tuned);
            Map<String, Object> settings = settings(patchInfo, sweep.describe());
            settings.put("sweepSeconds", Math.round((System.nanoTime() - ts) / 1e9));
            settings.put("totalSeconds", Math.round((System.nanoTime() - t0) / 1e9));
            settings.put("versions", Versions.describe());
            String md = LocalizationReport.write(out, new LocalizationReport.Document(settings, rows));
            System.out.print(md.substring(0, md.indexOf("## Every configuration")));
            System.out.println("Wrote " + out.resolve("localization.json") + " and localization.md");
        }
        return 0;
    }

    /** The --signal values, with the tuned signal added when --prompts is given. */
    private List<LocalizationSweep.Signal> signals() {
        List<LocalizationSweep.Signal> sig = new ArrayList<>();
        for (String s : signals) {
            sig.add(LocalizationSweep.Signal.parse(s));
        }
        if (prompts != null && !sig.contains(LocalizationSweep.Signal.TUNED)) {
            sig.add(LocalizationSweep.Signal.TUNED);
        }
        return sig;
    }

    /** --clip as the x̂0 clip settings to sweep. */
    private boolean[] clipModes() {
        return switch (clip) {
            case "off" -> new boolean[] {false};
            case "on" -> new boolean[] {true};
            case "both" -> new boolean[] {false, true};
            default -> throw new LustraException("--clip must be off, on or both, got '" + clip + "'.");
        };
    }

    /** --patches (and --kinds for attacks) as the patch kinds to paste. */
    private List<PatchedImages.Kind> patchKinds() {
        List<PatchedImages.Kind> ks = new ArrayList<>();
        switch (patches) {
            case "attacks" -> kinds.forEach(k -> ks.add(PatchedImages.Kind.parse(k)));
            case "random", "checkerboard" -> ks.add(PatchedImages.Kind.parse(patches));
            default -> throw new LustraException("--patches must be attacks, random or checkerboard, got '" + patches
                    + "'.");
        }
        return ks;
    }

    /** The report's settings block, in its fixed key order, before the timings and versions. */
    private Map<String, Object> settings(Map<String, Object> patchInfo, Map<String, Object> sweep) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("command", "lustra eval localize " + String.join(" ", commandLine()));
        settings.put("diffusionModel", model);
        settings.put("classifier", classifier);
        settings.put("images", split + " " + from + ".." + (from + images - 1) + " (" + images + " per kind, the "
                + "same images for every kind, and unpatched as 'clean')");
        settings.put("patchFraction", fraction);
        settings.put("patchSeed", seed);
        settings.put("patches", patchInfo);
        settings.put("prompts", prompts);
        settings.putAll(sweep);
        return settings;
    }

    /** AdvP's universal best-of-classes patch, trained on validation 0..1999 and cached as tune-prompts does. */
    private AdvPatch.Trained advpPatch(AttackModel am, String name) {
        return UniversalPatches.bestOfClasses(UniversalPatches.promptTuningCache(name, fraction, seed), am,
                Subsets.load("validation"), 2000, new AdvPatch.Options(fraction, 100, 32, 0.05, seed));
    }

    private Map<String, Object> describe(PatchedImages.Kind k, AdvPatch.Trained advp, NetClassifier c, PatchedSet p,
            double seconds) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("how", switch (k) {
            case LAVAN -> "LaVAN per image against " + c.name() + ", " + attackSteps + " steps of 0.05, random place"
                    + length();
            case GDPA -> "GDPA-like per image against " + c.name() + ", " + attackSteps + " steps, moves every 5 "
                    + "within radius 3" + length();
            case ADVP -> "universal best-of-classes AdvP patch (target " + advp.target() + ", held-out fool rate "
                    + String.format(Locale.ROOT, "%.3f", advp.heldOutFoolRate()) + ") trained on validation "
                    + "0..1999, pasted at a seeded random place";
            case RANDOM -> "uniform random pixels at a seeded random place (no attack)";
            case CHECKERBOARD -> "0/1 checkerboard at a seeded random place (no attack)";
        });
        if (k.attack()) {
            try (NDManager m = NDManager.newBaseManager()) {
                float[] logits = c.logits(m.create(p.adversarial(), new Shape(p.size(), c.channels(), c.size(),
                        c.size()))).toFloatArray();
                int ok = 0;
                for (int i = 0; i < p.size(); i++) {
                    ok += LogitRows.argMax(logits, i, logits.length / p.size()) == p.labels()[i] ? 1 : 0;
                }
                d.put("classifierAccuracyOnPatched", (double) ok / p.size());
            }
        }
        d.put("seconds", Math.round(seconds));
        return d;
    }

    private String length() {
        return fullLength ? ", full length (best objective kept)" : ", each image stopped at its first success";
    }

    private static String join(double[] v) {
        return String.join(",", Arrays.stream(v).mapToObj(d -> String.format(Locale.ROOT, "%s", d)).toList());
    }

    private List<String> commandLine() {
        List<String> a = new ArrayList<>(List.of("--model", model, "--split", split, "--from", "" + from, "--images",
                "" + images, "--patches", patches, "--kinds", String.join(",", kinds), "--fraction", "" + fraction,
                "--attack-steps", "" + attackSteps, "--signals", String.join(",", signals), "--abar", join(alphaBars), "--theta",
                join(thetas), "--floor", join(floors), "--clip", clip,
                "--seed", "" + seed, "--noise-seed", "" + noiseSeed));
        if (prompts != null) {
            a.addAll(List.of("--prompts", prompts));
        }
        if (fullLength) {
            a.add("--full-length");
        }
        return a;
    }
}
