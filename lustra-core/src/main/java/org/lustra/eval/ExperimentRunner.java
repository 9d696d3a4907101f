package org.lustra.eval;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.lustra.attack.Attack;
import org.lustra.attack.Attacks;
import org.lustra.data.ImageSet;
import org.lustra.defense.DefenseFactory;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.GradientMode;
import org.lustra.defense.Identity;
import org.lustra.defense.Purifier;
import org.lustra.model.Classifier;
import org.lustra.model.ModelStore;
import org.lustra.util.Files2;
import org.lustra.util.Json;
import org.lustra.util.LustraException;
import org.lustra.util.LustraHome;
import org.lustra.util.Progress;

/**
 * Runs an {@link Experiment}: for every run seed, cell (defence × attack × mode) and chunk of images, attacks the
 * chunk ({@link ChunkRunner}), evaluates the final inputs through the defended classifier (K times for randomised
 * defences), and appends one {@link SampleRecord} per image to the run directory's journal ({@link RunDirectory}),
 * forced to disk per chunk. A rerun on the same directory skips finished chunks (a chunk with missing lines — a run
 * killed mid-write — is redone), so a killed run finishes with the same numbers as an uninterrupted one: every random
 * draw of a chunk comes from (seed, cell, chunk) ({@link RunSeeds}).
 *
 * <p>Closing the runner closes the diffusion model its defences loaded.
 */
public final class ExperimentRunner implements AutoCloseable {

    /** What an experiment runs on: the protected classifier, the images, and training images (AdvP, RHDE). */
    public record Inputs(Classifier classifier, ImageSet eval, ImageSet train) {}

    private final Experiment exp;
    private final Inputs in;
    private final RunDirectory dir;
    private final Consumer<String> log;
    private final AttackRegistry.Profile profile;
    private final Map<String, DefenseSpec> specs = new LinkedHashMap<>();
    private final Map<String, Purifier> purifiers = new HashMap<>();
    private final DefenseFactory factory = new DefenseFactory();
    private long stopAfterChunks = Long.MAX_VALUE;

    public ExperimentRunner(Experiment exp, Inputs in, Path dir, Consumer<String> log) {
        this.exp = exp;
        this.in = in;
        this.dir = new RunDirectory(dir);
        this.log = log;
        this.profile = AttackRegistry.Profile.of(exp);
        for (String d : exp.defenses()) {
            specs.put(d, DefenseSpec.parse(d));
        }
    }

    /** Uses {@code purifier} for the cells of defence {@code spec} instead of building it; for synthetic tests. */
    ExperimentRunner withDefense(String spec, Purifier purifier) {
        purifiers.put(spec, purifier);
        return this;
    }

    /** Stops (as a kill would) after this many chunks of this invocation; for the resume test. */
    ExperimentRunner stopAfter(long chunks) {
        this.stopAfterChunks = chunks;
        return this;
    }

    Experiment experiment() {
        return exp;
    }

    Inputs inputs() {
        return in;
    }

    RunDirectory directory() {
        return dir;
    }

    int images() {
        return exp.images() == null ? in.eval().size() : Math.min(exp.images(), in.eval().size());
    }

    int chunks() {
        return (images() + exp.batch() - 1) / exp.batch();
    }

    int chunkSize(int chunk) {
        return Math.min(images(), (chunk + 1) * exp.batch()) - chunk * exp.batch();
    }

    public Manifest manifest(String gitCommit, Map<String, String> versions) {
        Map<String, CellInfo> cells = new LinkedHashMap<>();
        for (Experiment.Cell c : exp.cells()) {
            CellInfo info = info(c);
            cells.put(c.id(), info);
            Purifier p = purifier(c);
            cells.putAll(ThreatModels.routeCells(c, p, routes(c, p), info));
        }
        return new Manifest(exp, Instant.now().toString(), gitCommit, versions, cells, images(),
                in.classifier().name(), List.of(), hashes(), RunSeeds.DERIVATION);
    }

    /** SHA-256 of the classifier's and the diffusion model's weights (from their verified cards) and of the subset. */
    private Map<String, String> hashes() {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> models = new ArrayList<>(List.of(in.classifier().name()));
        if (specs.values().stream().anyMatch(DefenseSpec::usesDiffusionModel)) {
            models.add(DefenseFactory.DIFFUSION_MODEL);
        }
        for (String name : models) {
            try {
                out.put("model:" + name, ModelStore.readCard(ModelStore.resolve(name)).sha256());
            } catch (RuntimeException e) {
                out.put("model:" + name, "unavailable (" + e.getMessage() + ")");
            }
        }
        String subset = exp.subset() == null ? "eval512" : exp.subset();
        for (String part : List.of("images-idx3-ubyte.gz", "labels-idx1-ubyte.gz")) {
            Path f = LustraHome.data().resolve(subset + "-" + part);
            if (Files.exists(f)) {
                out.put("subset:" + f.getFileName(), Files2.sha256(f));
            }
        }
        return out;
    }

    /**
     * Forgets the results of every cell whose id contains {@code pattern} (their sample lines, AdvP patches and
     * example panels) so the next {@link #run} computes them again with the current code, and records that in the
     * manifest's history (with {@code gitCommit}) and the cells' refreshed descriptions. Returns the cells matched.
     * Use it after fixing or changing an attack; the other cells keep their results.
     */
    public List<String> redo(String pattern, String gitCommit) {
        if (!dir.hasManifest()) {
            throw new LustraException(dir.path() + " has no " + RunDirectory.MANIFEST + "; there is nothing to redo — "
                    + "run without --redo");
        }
        Manifest old = checkSameExperiment();
        List<String> matched = new ArrayList<>();
        Map<String, CellInfo> cells = new LinkedHashMap<>(old.cells());
        for (Experiment.Cell c : exp.cells()) {
            if (c.id().contains(pattern)) {
                matched.add(c.id());
                cells.put(c.id(), info(c));
            }
        }
        if (matched.isEmpty()) {
            throw new LustraException("--redo " + pattern + " matches no cell of " + exp.name() + "; cells are "
                    + exp.cells().stream().map(Experiment.Cell::id).toList());
        }
        Set<String> ids = new HashSet<>(matched);
        int dropped = dir.dropRecords(ids);
        for (Experiment.Cell c : exp.cells()) {
            if (ids.contains(c.id())) {
                dir.forgetCellFiles(c.id(), UniversalPatches.owner(c));
            }
        }
        List<String> history = new ArrayList<>(old.history());
        history.add(Instant.now() + " at git commit " + gitCommit + ": redid " + matched + " (" + dropped
                + " sample records dropped)");
        dir.writeManifest(old.withCells(cells, history));
        log.accept("Redo: dropped " + dropped + " records of " + matched.size() + " cell(s) " + matched);
        return matched;
    }

    private Manifest checkSameExperiment() {
        Manifest old = dir.readManifest();
        if (!Json.GSON.toJson(old.experiment()).equals(Json.GSON.toJson(exp)) || old.images() != images()) {
            throw new LustraException(dir.path() + " holds results of a different experiment config; use another "
                    + "--out or delete the directory to start over.");
        }
        return old;
    }

    /** Runs what is not done yet; returns the number of chunks computed by this call. */
    public long run(Manifest manifest) {
        dir.create();
        if (dir.hasManifest()) {
            checkSameExperiment();
        } else {
            dir.writeManifest(manifest);
        }
        Set<String> done = dir.finishedChunks(this::chunkSize, log);
        List<Experiment.Cell> cells = exp.cells();
        long totalImages = (long) exp.seeds().size() * cells.size() * images();
        long doneImages = 0;
        for (String key : done) {
            if (!key.contains("@")) { // per-route records of worst-of cells come with their cell's chunk
                doneImages += chunkSize(RunDirectory.ChunkKey.parse(key).chunk());
            }
        }
        Progress progress = new Progress("eval " + exp.name(), totalImages, "images");
        progress.startAt(doneImages);
        if (doneImages > 0) {
            log.accept(String.format(Locale.ROOT, "Resuming %s: %d of %d image evaluations already done", dir.path(),
                    doneImages, totalImages));
        }
        ChunkRunner chunks = new ChunkRunner(this, new UniversalPatches(dir, in.train(), log), log);
        long computed = 0;
        for (long seed : exp.seeds()) {
            for (Experiment.Cell cell : cells) {
                for (int chunk = 0; chunk < chunks(); chunk++) {
                    if (done.contains(new RunDirectory.ChunkKey(seed, cell.id(), chunk).text())) {
                        continue;
                    }
                    if (computed >= stopAfterChunks) {
                        return computed;
                    }
                    dir.append(chunks.run(seed, cell, chunk));
                    computed++;
                    doneImages += chunkSize(chunk);
                    progress.update(doneImages, cell.id());
                }
            }
        }
        progress.finish(doneImages, "done");
        return computed;
    }

    /**
     * Recomputes one chunk with the code at hand and returns its records without writing them anywhere but this
     * runner's directory (example panels, AdvP patches it has to train); for {@link Reproduction}.
     */
    List<SampleRecord> recompute(long seed, String cellId, int chunk) {
        Experiment.Cell cell = exp.cells().stream().filter(c -> c.id().equals(cellId)).findFirst()
                .orElseThrow(() -> new LustraException("The journal names cell " + cellId + ", which the experiment "
                        + "config in the manifest does not produce."));
        return new ChunkRunner(this, new UniversalPatches(dir, in.train(), log), log).run(seed, cell, chunk);
    }

    /** The defence of {@code cell}, built once per spec ({@link Identity} for none). */
    Purifier purifier(Experiment.Cell cell) {
        return purifiers.computeIfAbsent(cell.defense(), d -> factory.create(specs.computeIfAbsent(d,
                DefenseSpec::parse), in.classifier()));
    }

    /** The attack of {@code cell}; AdvP draws its universal patch from {@code patches} (null: describe only). */
    Attack attack(Experiment.Cell cell, Attacks.PatchSource patches) {
        return AttackRegistry.create(cell.attack(), profile, new AttackRegistry.Context(in.train(), patches));
    }

    private CellInfo info(Experiment.Cell cell) {
        Purifier p = purifier(cell);
        return ThreatModels.describe(cell, p, routes(cell, p), attack(cell, null), in.classifier().name(),
                in.eval().height(), in.eval().width());
    }

    /** The gradient mode adaptive attacks use through {@code p}, from the experiment's "gradient" setting. */
    GradientMode adaptiveMode(Purifier p) {
        GradientMode m = switch (exp.gradient().equals("worst-of") ? "auto" : exp.gradient()) {
            case "exact" -> GradientMode.EXACT;
            case "surrogate" -> GradientMode.SURROGATE;
            case "bpda" -> GradientMode.BPDA;
            case "ste" -> GradientMode.STE;
            default -> p.gradientModes().contains(GradientMode.EXACT) ? GradientMode.EXACT
                    : p.gradientModes().contains(GradientMode.STE) ? GradientMode.STE : GradientMode.BPDA;
        };
        if (!p.gradientModes().contains(m)) {
            throw new LustraException("Defence " + p.name() + " does not support gradient mode " + m + " (it supports "
                    + p.gradientModes() + "); set \"gradient\" to auto or one of those.");
        }
        return m;
    }

    /** The one route a cell is both run and labelled with (the first of {@link #routes} for worst-of). */
    Route route(Experiment.Cell cell, Purifier p) {
        boolean adaptive = !(p instanceof Identity) && cell.adaptive();
        return Route.of(p, adaptive, adaptive ? adaptiveMode(p) : GradientMode.EXACT, eot(cell.attack(), p),
                votes(p));
    }

    /**
     * The routes a cell runs: one, or for "worst-of" on an adaptive gradient attack every mode the defence offers
     * (EXACT, SURROGATE, STE, BPDA in that order); black-box attacks need no gradient and run once.
     */
    List<Route> routes(Experiment.Cell cell, Purifier p) {
        Route first = route(cell, p);
        if (!exp.gradient().equals("worst-of") || !first.adaptive() || attack(cell, null).blackBox()) {
            return List.of(first);
        }
        List<Route> out = new ArrayList<>();
        for (GradientMode m : List.of(GradientMode.EXACT, GradientMode.SURROGATE, GradientMode.STE,
                GradientMode.BPDA)) {
            if (p.gradientModes().contains(m)) {
                out.add(Route.of(p, true, m, eot(cell.attack(), p), votes(p)));
            }
        }
        return out;
    }

    /** EOT copies per gradient: 1 for deterministic defences, else the registry's default for the profile. */
    private int eot(Experiment.AttackSpec a, Purifier p) {
        return p.randomized() ? AttackRegistry.eot(a, profile) : 1;
    }

    /** K: 1 for deterministic defences, else the registry's default for the profile. */
    private int votes(Purifier p) {
        return p.randomized() ? AttackRegistry.votes(profile) : 1;
    }

    /** Closes the diffusion model the defences loaded (if any). */
    @Override
    public void close() {
        factory.close();
    }
}
