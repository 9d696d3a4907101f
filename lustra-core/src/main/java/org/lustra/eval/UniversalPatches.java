package org.lustra.eval;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongFunction;
import org.lustra.attack.AdvPatch;
import org.lustra.attack.AttackModel;
import org.lustra.attack.Attacks;
import org.lustra.attack.GradientCounts;
import org.lustra.data.ImageSet;
import org.lustra.util.Json;
import org.lustra.util.LustraHome;

/**
 * AdvP's universal patches, trained once on training images and cached on disk, in one place for the harness (one
 * patch per run seed and owner under the run directory's {@code patches/}) and for {@code lustra tune-prompts} (one
 * best-of-classes patch per classifier, fraction and seed beside the prompt checkpoints). Training is the one-off cost
 * of the attack, so it is not in any cell's time per image nor in any record's gradient counts: the patch's info file
 * records it once, and the report shows it per cell ({@link #trainingCost}).
 */
public final class UniversalPatches {
    /** Training images of a harness patch (the first ones of the training set). */
    static final int HARNESS_TRAINING_IMAGES = 2000;

    /**
     * How a harness patch was made, next to it in {@code patches/}: its target (-1 untargeted), for best-of-classes
     * the held-out fooling rate of the kept and of every target, the one-off training time, and (since 1 December)
     * its owner and run seed and what its training cost: gradient rows (one per training image per step, over every
     * target trained), of those the non-finite and the all-zero ones, and images passed through the target. The
     * training cost is reported once per patch: a patch is shared by every chunk of its cell (or, on the bare
     * classifier, by several cells), so no per-sample record carries it. Fields are null in older files.
     */
    record PatchInfo(int target, Double heldOutFoolRate, double[] foolRateByTarget, Double trainSeconds, String owner,
            Long seed, Long trainingGradientRows, Long trainingNonFiniteGradients, Long trainingZeroGradients,
            Long trainingForwardImages) {}

    /**
     * What training the universal patches of one report cell cost, summed over the patches it used (one per run seed,
     * and per route in a worst-of cell): {@code gradientRows} etc. are null when some patch's info predates them.
     */
    record TrainingCost(int patches, Long gradientRows, Long nonFiniteGradients, Long forwardImages) {}

    private final RunDirectory dir;
    private final ImageSet train;
    private final Consumer<String> log;
    private final Map<String, float[]> memory = new HashMap<>();

    UniversalPatches(RunDirectory dir, ImageSet train, Consumer<String> log) {
        this.dir = dir;
        this.train = train;
        this.log = log;
    }

    /**
     * Whose universal patch a cell uses. Against the bare classifier (undefended and non-adaptive cells) it is one
     * patch per (seed, attack), so every defence faces the same patch and their non-adaptive numbers compare; an
     * adaptive cell trains its own through its defence.
     */
    static String owner(Experiment.Cell cell) {
        return owner(cell, "");
    }

    /**
     * As {@link #owner(Experiment.Cell)} for one route of the cell: in a worst-of cell each route trains its own patch
     * through its own gradients ({@code route} is "@" + mode there, else empty), or the routes would share the first
     * route's patch and the worst-of would compare one patch with itself.
     */
    static String owner(Experiment.Cell cell, String route) {
        return cell.undefended() || !cell.adaptive() ? "bare|" + cell.attack().id() : cell.id() + route;
    }

    /**
     * The source one route of {@code cell} draws its AdvP patch from under run seed {@code seed} ({@code route}: "@" +
     * mode in worst-of cells, else empty). {@code target} builds the model the patch is trained through — the route's
     * target, with the purification stream it is given — from the patch's own seed ({@link RunSeeds#patchPurification}),
     * never from the asking chunk's: the chunk that trains a shared patch is whichever runs first, on any engine.
     */
    Attacks.PatchSource source(long seed, Experiment.Cell cell, String route, LongFunction<AttackModel> target) {
        return attack -> patch(seed, owner(cell, route), cell, target, attack);
    }

    /** The patch of (seed, owner): from memory, else from {@code patches/}, else trained through a fresh target. */
    float[] patch(long seed, String owner, Experiment.Cell cell, LongFunction<AttackModel> target,
            Attacks.AdvPatchAttack attack) {
        String key = seed + "#" + owner;
        float[] patch = memory.get(key);
        if (patch != null) {
            return patch;
        }
        Path file = dir.patchFile(owner, seed);
        if (Files.exists(file)) {
            patch = Json.read(file, float[].class);
        } else {
            long patchSeed = RunSeeds.patchSeed(seed, owner);
            AttackModel model = target.apply(RunSeeds.patchPurification(patchSeed));
            Trained t = train(model, train, Math.min(train.size(), HARNESS_TRAINING_IMAGES),
                    attack.training(patchSeed), attack.bestOfClasses());
            if (attack.bestOfClasses()) {
                log.accept(String.format(Locale.ROOT, "AdvP %s seed %d: best target class %d fools %.1f %% of "
                        + "held-out training images (per class %s), trained in %.0f s", cell.id(), seed, t.target(),
                        100 * t.heldOutFoolRate(), Arrays.toString(Arrays.stream(t.foolRateByTarget())
                                .map(r -> Math.round(r * 1000) / 10.0).toArray()), t.seconds()));
            }
            GradientCounts g = GradientCounts.of(model);
            store(RunDirectory.patchInfoFile(file), new PatchInfo(t.target(), t.heldOutFoolRate(),
                    t.foolRateByTarget(), t.seconds(), owner, seed, g.rows(), g.nonFinite(), g.zero(),
                    model.forwardImages()));
            store(file, t.patch());
            patch = t.patch();
        }
        memory.put(key, patch);
        return patch;
    }

    /**
     * The training cost of the universal patches behind report cell {@code cellId} (a cell of {@code manifest}, or a
     * worst-of cell's route cell {@code id@MODE}) for {@code seeds}, read from {@code patches/*.info.json}; null for
     * cells whose attack trains no universal patch. A cell on the bare classifier shows its shared patch's cost.
     */
    static TrainingCost trainingCost(RunDirectory dir, Manifest manifest, String cellId, Collection<Long> seeds) {
        int at = cellId.indexOf('@');
        String base = at < 0 ? cellId : cellId.substring(0, at);
        Experiment.Cell cell = manifest.experiment().cells().stream().filter(c -> c.id().equals(base)).findFirst()
                .orElse(null);
        if (cell == null || !cell.attack().attack().equals("advp")) {
            return null;
        }
        // a worst-of cell trained one patch per route (its route cells are in the manifest); a route cell its own
        List<String> routes = at >= 0 ? List.of(cellId.substring(at))
                : manifest.cells().keySet().stream().filter(k -> k.startsWith(base + "@"))
                        .map(k -> k.substring(base.length())).toList();
        List<String> owners = routes.isEmpty() ? List.of(owner(cell))
                : routes.stream().map(r -> owner(cell, r)).toList();
        int patches = 0;
        long[] sum = new long[3];
        boolean known = true;
        for (long seed : seeds) {
            for (String owner : owners) {
                Path info = RunDirectory.patchInfoFile(dir.patchFile(owner, seed));
                PatchInfo p = Files.exists(info) ? Json.read(info, PatchInfo.class) : null;
                patches++;
                if (p == null || p.trainingGradientRows() == null) {
                    known = false;
                    continue;
                }
                sum[0] += p.trainingGradientRows();
                sum[1] += p.trainingNonFiniteGradients();
                sum[2] += p.trainingForwardImages();
            }
        }
        return known ? new TrainingCost(patches, sum[0], sum[1], sum[2])
                : new TrainingCost(patches, null, null, null);
    }

    /**
     * {@code lustra tune-prompts}' patch: the best of the per-class targeted patches trained through {@code model} on
     * the first {@code images} of {@code train}, cached in {@code file} (a JSON {@link AdvPatch.Trained}).
     */
    public static AdvPatch.Trained bestOfClasses(Path file, AttackModel model, ImageSet train, int images,
            AdvPatch.Options opt) {
        if (Files.exists(file)) {
            return Json.read(file, AdvPatch.Trained.class);
        }
        Trained t = train(model, train, images, opt, true);
        AdvPatch.Trained out = new AdvPatch.Trained(t.patch(), t.target(), t.heldOutFoolRate(),
                t.foolRateByTarget());
        store(file, out);
        return out;
    }

    /** Where tune-prompts caches its patch: it depends only on (classifier, fraction, seed). */
    public static Path promptTuningCache(String classifier, double fraction, long seed) {
        return LustraHome.checkpoints().resolve("prompts-diffender").resolve(String.format(Locale.ROOT,
                "advp-%s-%.3f-seed%d.json", classifier, fraction, seed));
    }

    /** A trained patch; the held-out rates only for best-of-classes. */
    private record Trained(float[] patch, int target, Double heldOutFoolRate, double[] foolRateByTarget,
            double seconds) {}

    private static Trained train(AttackModel model, ImageSet set, int images, AdvPatch.Options opt,
            boolean bestOfClasses) {
        float[] x;
        try (NDManager s = NDManager.newBaseManager()) {
            x = set.batch(s, 0, images).toFloatArray();
        }
        int[] y = Arrays.copyOf(set.labels(), images);
        long t0 = System.nanoTime();
        if (bestOfClasses) {
            AdvPatch.Trained t = AdvPatch.trainBest(model, x, y, opt);
            return new Trained(t.patch(), t.target(), t.heldOutFoolRate(), t.foolRateByTarget(),
                    (System.nanoTime() - t0) / 1e9);
        }
        float[] patch = AdvPatch.train(model, x, y, opt);
        return new Trained(patch, opt.target(), null, null, (System.nanoTime() - t0) / 1e9);
    }

    private static void store(Path file, Object value) {
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Json.writeAtomically(file, value);
    }
}
