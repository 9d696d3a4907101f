package org.lustra.eval;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.lustra.attack.Attack;
import org.lustra.attack.Attacks;
import org.lustra.data.ImageSet;
import org.lustra.data.SubsetSpec;
import org.lustra.data.Subsets;
import org.lustra.defense.DefenseFactory;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.GradientMode;
import org.lustra.defense.Identity;
import org.lustra.defense.Purifier;
import org.lustra.model.Classifier;
import org.lustra.model.Classifiers;
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
 * draw of a chunk comes from (seed, cell, chunk), or (seed, attack, mode, chunk) in a paired run ({@link RunSeeds}).
 *
 * <p>Closing the runner closes the diffusion model its defences loaded.
 */
public final class ExperimentRunner implements AutoCloseable {

    /**
     * What an experiment runs on: the protected classifier, the images, and training images (AdvP, RHDE). The images
     * must have the classifier's input shape and labels among its classes (a TorchScript classifier declares its own).
     */
    public record Inputs(Classifier classifier, ImageSet eval, ImageSet train) {
        public Inputs {
            requireFits(classifier, eval);
        }

        /** Refuses images of another shape, or labels past the classifier's classes, in one sentence. */
        public static void requireFits(Classifier c, ImageSet set) {
            if (set.channels() != c.channels() || set.height() != c.size() || set.width() != c.size()) {
                throw new LustraException(c.name() + " takes " + c.channels() + "x" + c.size() + "x" + c.size()
                        + " images but the evaluation images are " + set.channels() + "x" + set.height() + "x"
                        + set.width() + "; attacks and experiments run on the shipped Fashion-MNIST subsets, so give "
                        + "a classifier of their shape (classify, purify and serve take other sizes).");
            }
            int maxLabel = Arrays.stream(set.labels()).max().orElse(0);
            if (maxLabel >= c.classes()) {
                throw new LustraException(c.name() + " has " + c.classes() + " classes but the evaluation labels go up "
                        + "to " + maxLabel + "; attacks and experiments need a classifier of the subset's classes, in "
                        + "its order.");
            }
        }
    }

    private final Experiment exp;
    private final Inputs in;
    private final RunDirectory dir;
    private final Consumer<String> log;
    private final AttackRegistry.Profile profile;
    private final Map<String, DefenseSpec> specs = new LinkedHashMap<>();
    private final Map<String, Purifier> purifiers = new HashMap<>();
    private final Map<String, Attack> attacks = new HashMap<>();
    private final DefenseFactory factory;
    private final RoutePlan routePlan;
    private long stopAfterChunks = Long.MAX_VALUE;
    /** The finished routes of unfinished chunks: set by a {@link #run} on the local engine, else null (none kept). */
    private RouteCheckpoints routeCheckpoints;
    /** Computes chunks for {@link #computeChunk}; made afresh by every {@link #run} (its patch memory with it). */
    private ChunkRunner chunks;

    public ExperimentRunner(Experiment exp, Inputs in, Path dir, Consumer<String> log) {
        this.exp = exp;
        this.in = in;
        this.dir = new RunDirectory(dir);
        this.log = log;
        this.profile = AttackRegistry.Profile.of(exp);
        this.routePlan = new RoutePlan(exp.gradient(), profile, exp.fullLengthNonAdaptive());
        this.factory = new DefenseFactory(exp.diffusionModel());
        for (String d : exp.defenses()) {
            specs.put(d, DefenseSpec.parse(d));
        }
    }

    /** Uses {@code purifier} for the cells of defence {@code spec} instead of building it; for synthetic tests. */
    ExperimentRunner withDefense(String spec, Purifier purifier) {
        purifiers.put(spec, purifier);
        return this;
    }

    /**
     * Runs {@code attack} for the cells whose config names attack {@code name} instead of the registry's; for synthetic
     * tests (the registry's attacks clip and sanitise, so none of them can hand the harness a NaN image to guard).
     */
    ExperimentRunner withAttack(String name, Attack attack) {
        attacks.put(name, attack);
        return this;
    }

    /** Stops (as a kill would) after this many chunks of this invocation; for the resume test. */
    ExperimentRunner stopAfter(long chunks) {
        this.stopAfterChunks = chunks;
        return this;
    }

    public Experiment experiment() {
        return exp;
    }

    public Inputs inputs() {
        return in;
    }

    public RunDirectory directory() {
        return dir;
    }

    RouteCheckpoints routeCheckpoints() {
        return routeCheckpoints;
    }

    int images() {
        return exp.images() == null ? in.eval().size() : Math.min(exp.images(), in.eval().size());
    }

    /** The experiment's subset ({@code eval512} when the config names none). */
    private SubsetSpec subsetSpec() {
        return SubsetSpec.parse(exp.subset() == null ? "eval512" : exp.subset());
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
            cells.putAll(describe(c));
        }
        return new Manifest(exp, Instant.now().toString(), gitCommit, versions, cells, images(),
                in.classifier().name(), List.of(), inputHashes(), RunSeeds.derivation(exp));
    }

    /**
     * SHA-256 of the weights of every model the run loads — the classifier, then per defence the diffusion model and
     * the defence's own trained models ({@link DefenseFactory#models}: MAEP's network, SAC's segmenter, …), each as
     * {@code model:NAME} with NAME as the config or the spec names it — and of the subset, as the manifest records
     * them; another JVM computing chunks of this run compares its own with the manifest's. A manifest written before
     * an entry existed simply lacks it: nothing compares what it does not record.
     */
    public Map<String, String> inputHashes() {
        Map<String, String> out = new LinkedHashMap<>();
        String classifier = in.classifier().name();
        // the classifier by what the experiment names (a TorchScript path is not a model-store name)
        out.put("model:" + classifier, hash(() -> Classifiers.sha256(exp.classifier())));
        for (DefenseSpec spec : specs.values()) {
            for (String model : factory.models(spec, classifier)) {
                out.computeIfAbsent("model:" + model, k -> hash(() -> ModelStore.sha256(model)));
            }
        }
        // a corrupted subset (eval512+contrast:3) is computed from the shipped files of its base, which are hashed; the
        // corruption itself is in the config
        String subset = subsetSpec().base();
        for (String part : List.of("images-idx3-ubyte.gz", "labels-idx1-ubyte.gz")) {
            Path f = LustraHome.data().resolve(subset + "-" + part);
            if (Files.exists(f)) {
                out.put("subset:" + f.getFileName(), Files2.sha256(f));
            }
        }
        return out;
    }

    /** The hash {@code sha256} gives, or why there is none (a manifest records that rather than failing). */
    private static String hash(Supplier<String> sha256) {
        try {
            return sha256.get();
        } catch (RuntimeException e) {
            return "unavailable (" + e.getMessage() + ")";
        }
    }

    /** {@link #redo(List, String)} with one pattern. */
    public List<String> redo(String pattern, String gitCommit) {
        return redo(List.of(pattern), gitCommit);
    }

    /**
     * Forgets the results of every cell whose id contains any of {@code patterns} so the next {@link #run} computes
     * them with the code at hand, and notes it in the manifest; an interrupted redo resumes at the same clean commit
     * (see {@link Redo}). Returns the cells matched. The other cells keep their results.
     */
    public List<String> redo(List<String> patterns, String gitCommit) {
        if (!dir.hasManifest()) {
            throw new LustraException(dir.path() + " has no " + RunDirectory.MANIFEST + "; there is nothing to redo — "
                    + "run without --redo");
        }
        return new Redo(exp, dir, this::describe, this::inputHashes, log).apply(checkSameExperiment(), patterns,
                gitCommit);
    }

    /**
     * Appends to the manifest's history which code finishes the run: the manifest keeps the commit the run began at,
     * and the chunks written from here on may come from a later commit or another build.
     */
    private void noteResume(Manifest now, int pendingChunks) {
        Manifest old = dir.readManifest();
        List<String> history = new ArrayList<>(old.history());
        history.add(Instant.now() + " at git commit " + now.gitCommit() + " (build "
                + (now.versions() == null ? "unknown" : now.versions().getOrDefault("build", "unknown"))
                + "): resumed, " + pendingChunks + " chunk(s) pending");
        dir.writeManifest(old.withCells(old.cells(), history));
    }

    private Manifest checkSameExperiment() {
        Manifest old = dir.readManifest();
        if (!Json.GSON.toJson(old.experiment()).equals(Json.GSON.toJson(exp)) || old.images() != images()) {
            throw new LustraException(dir.path() + " holds results of a different experiment config; use another "
                    + "--out or delete the directory to start over.");
        }
        return old;
    }

    /** Runs what is not done yet in this JVM; returns the number of chunks computed by this call. */
    public long run(Manifest manifest) {
        return run(manifest, ChunkEngine.LOCAL);
    }

    /**
     * Runs what is not done yet, the chunks computed by {@code engine} and the journal written here (the driver);
     * returns the number of chunks computed by this call.
     */
    public long run(Manifest manifest, ChunkEngine engine) {
        // first, so that a run refused for changed weights marks nothing
        List<RunDirectory.ChunkKey> pending = pendingChunks(manifest);
        Redo.noteRun(dir, manifest.gitCommit());
        // image evaluations, as the journal and the report count them: one per record, a worst-of cell's route
        // records included (a chunk of n images writes n per route and n of its own)
        long totalImages = 0;
        for (Experiment.Cell cell : exp.cells()) {
            totalImages += (long) exp.seeds().size() * images() * recordsPerImage(manifest, cell.id());
        }
        long doneImages = totalImages - pending.stream().mapToLong(k -> (long) chunkSize(k.chunk())
                * recordsPerImage(manifest, k.cell())).sum();
        Subsets.unrepresentativeHead(in.eval(), images(), subsetSpec()).ifPresent(w -> log.accept("Warning: " + w));
        Progress progress = new Progress("eval " + exp.name(), totalImages, "image evaluations");
        progress.startAt(doneImages);
        if (doneImages > 0) {
            log.accept(String.format(Locale.ROOT, "Resuming %s: %d of %d image evaluations already done", dir.path(),
                    doneImages, totalImages));
            if (!pending.isEmpty()) {
                noteResume(manifest, pending.size());
            }
        }
        // finished routes of unfinished chunks are kept only where this process writes the journal (RouteCheckpoints)
        routeCheckpoints = engine == ChunkEngine.LOCAL ? new RouteCheckpoints(dir, RouteCheckpoints.fingerprint(exp,
                images(), manifest.hashes() == null ? Map.of() : manifest.hashes()), log) : null;
        if (routeCheckpoints != null) {
            routeCheckpoints.retainOnly(pending);
        }
        chunks = new ChunkRunner(this, new UniversalPatches(dir, in.train(), log), log);
        List<RunDirectory.ChunkKey> now = pending.subList(0, (int) Math.min(pending.size(), stopAfterChunks));
        JournalSink sink = new JournalSink(dir, this::chunkSize, manifest::routeCells, now, progress, doneImages,
                routeCheckpoints, log);
        engine.compute(this, now, sink);
        if (sink.finished() && now.size() == pending.size()) {
            progress.finish(sink.images(), "done");
            dir.clearPendingRedo();
        }
        return sink.written();
    }

    /** Records one image of a cell writes: its own and one per route cell of a worst-of cell. */
    private static int recordsPerImage(Manifest manifest, String cellId) {
        return 1 + manifest.routeCells(cellId).size();
    }

    /**
     * Prepares the run directory (writes the manifest, or checks that it holds this experiment; drops the lines of
     * chunks a kill cut short) and returns the chunks not finished yet, in run order: seed, cell, chunk. Refuses when
     * chunks remain and the weights or images have changed since the run began ({@code manifest} holds today's hashes).
     */
    public List<RunDirectory.ChunkKey> pendingChunks(Manifest manifest) {
        dir.create();
        List<String> changed = List.of();
        Manifest old = manifest;
        if (dir.hasManifest()) {
            old = checkSameExperiment();
            changed = old.changedInputs(manifest.hashes());
        } else {
            dir.writeManifest(manifest);
        }
        Set<String> done = dir.finishedChunks(this::chunkSize, log);
        List<RunDirectory.ChunkKey> out = new ArrayList<>();
        for (long seed : exp.seeds()) {
            for (Experiment.Cell cell : exp.cells()) {
                for (int chunk = 0; chunk < chunks(); chunk++) {
                    RunDirectory.ChunkKey key = new RunDirectory.ChunkKey(seed, cell.id(), chunk);
                    if (!done.contains(key.text())) {
                        out.add(key);
                    }
                }
            }
        }
        // the journal gets a record per route this build runs, the report reads the routes the manifest on disk lists
        List<String> moved = old.cellsWithOtherRoutes(manifest, out.stream().map(RunDirectory.ChunkKey::cell).toList());
        if (!moved.isEmpty()) {
            String cell = moved.get(0);
            throw new LustraException(dir.path() + ": cell " + cell + " began with the routes " + old.routeCells(cell)
                    + " and this build runs " + manifest.routeCells(cell) + (moved.size() > 1 ? " (so do "
                    + moved.subList(1, moved.size()) + ")" : "") + "; finish the run with the build it began with, or "
                    + "redo with --redo '" + String.join("' --redo '", moved) + "' (their records so far are dropped).");
        }
        if (!out.isEmpty() && !changed.isEmpty()) {
            // finishing the run would put records made on two sets of weights under one manifest
            throw new LustraException(dir.path() + " was begun on other inputs than this machine has now ("
                    + String.join("; ", changed) + "): redo its cells with --redo (the manifest's history then "
                    + "records the change) or start over in another --out.");
        }
        return out;
    }

    /**
     * Computes one chunk's records (a worst-of cell's route records first, then the cell's own) without writing them
     * to the journal; the first chunk of the first seed writes its cell's example panel, AdvP cells their patch. Every
     * engine computes chunks with this method. Not thread-safe: one chunk at a time per runner.
     */
    public List<SampleRecord> computeChunk(RunDirectory.ChunkKey key) {
        if (chunks == null) {
            chunks = new ChunkRunner(this, new UniversalPatches(dir, in.train(), log), log);
        }
        return chunks.run(key.seed(), cell(key.cell()), key.chunk());
    }

    /**
     * Recomputes one chunk with the code at hand and returns its records without writing them anywhere but this
     * runner's directory (example panels, AdvP patches it has to train); for {@link Reproduction}.
     */
    List<SampleRecord> recompute(long seed, String cellId, int chunk) {
        return new ChunkRunner(this, new UniversalPatches(dir, in.train(), log), log).run(seed, cell(cellId), chunk);
    }

    private Experiment.Cell cell(String cellId) {
        return exp.cells().stream().filter(c -> c.id().equals(cellId)).findFirst()
                .orElseThrow(() -> new LustraException("The journal names cell " + cellId + ", which the experiment "
                        + "config in the manifest does not produce."));
    }

    /** The defence of {@code cell}, built once per spec ({@link Identity} for none). */
    Purifier purifier(Experiment.Cell cell) {
        return purifiers.computeIfAbsent(cell.defense(), d -> factory.create(specs.computeIfAbsent(d,
                DefenseSpec::parse), in.classifier()));
    }

    /** The attack of {@code cell}; AdvP draws its universal patch from {@code patches} (null: describe only). */
    Attack attack(Experiment.Cell cell, Attacks.PatchSource patches) {
        Attack given = attacks.get(cell.attack().attack());
        return given != null ? given
                : AttackRegistry.create(cell.attack(), profile, new AttackRegistry.Context(in.train(), patches));
    }

    /** The manifest's description of {@code cell}: the cell, then one entry per route of a worst-of cell. */
    private Map<String, CellInfo> describe(Experiment.Cell cell) {
        Map<String, CellInfo> out = new LinkedHashMap<>();
        CellInfo info = info(cell);
        out.put(cell.id(), info);
        Purifier p = purifier(cell);
        out.putAll(ThreatModels.routeCells(cell, p, routes(cell, p), info, exp.skipsFooledImages()));
        return out;
    }

    private CellInfo info(Experiment.Cell cell) {
        Purifier p = purifier(cell);
        return ThreatModels.describe(cell, p, routes(cell, p), attack(cell, null), in.classifier().name(),
                in.eval().height(), in.eval().width(), exp.skipsFooledImages());
    }

    /** The gradient mode adaptive attacks use through {@code p} ({@link RoutePlan#adaptiveMode}). */
    GradientMode adaptiveMode(Purifier p) {
        return routePlan.adaptiveMode(p);
    }

    /** The one route a cell is both run and labelled with ({@link RoutePlan#route}). */
    Route route(Experiment.Cell cell, Purifier p) {
        return routePlan.route(cell, p);
    }

    /** The attack registered as {@code name} on {@code cell}'s patch budget and overrides (a worst-of extra route). */
    Attack substitute(Experiment.Cell cell, String name) {
        Experiment.AttackSpec a = cell.attack();
        return AttackRegistry.create(new Experiment.AttackSpec(name, null, 0, a.steps(), a.eot(), a.fraction(), null,
                null), profile, new AttackRegistry.Context(in.train(), null));
    }

    /** The routes a cell runs ({@link RoutePlan#routes}). */
    List<Route> routes(Experiment.Cell cell, Purifier p) {
        return routePlan.routes(cell, p, attack(cell, null).blackBox());
    }

    /** Closes the diffusion model the defences loaded (if any). */
    @Override
    public void close() {
        factory.close();
    }
}
