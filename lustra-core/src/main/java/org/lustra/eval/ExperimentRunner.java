package org.lustra.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import org.lustra.attack.AdvPatch;
import org.lustra.attack.Apgd;
import org.lustra.attack.AttackModel;
import org.lustra.attack.AttackResult;
import org.lustra.attack.AutoAttack;
import org.lustra.attack.FabT;
import org.lustra.attack.GdpaLike;
import org.lustra.attack.GradientCounts;
import org.lustra.attack.LaVan;
import org.lustra.attack.Norm;
import org.lustra.attack.Patch;
import org.lustra.attack.Pgd;
import org.lustra.attack.RhdeLike;
import org.lustra.attack.Square;
import org.lustra.data.ImageFiles;
import org.lustra.data.ImageSet;
import org.lustra.defense.DefendedClassifier;
import org.lustra.defense.GradientMode;
import org.lustra.defense.Purifier;
import org.lustra.model.Classifier;
import org.lustra.model.ModelStore;
import org.lustra.util.Files2;
import org.lustra.util.Json;
import org.lustra.util.LustraException;
import org.lustra.util.LustraHome;
import org.lustra.util.Progress;
import org.lustra.util.Seed;

/**
 * Runs an {@link Experiment}: for every run seed, cell (defence × attack × mode) and chunk of images, attacks the
 * chunk, evaluates the final inputs through the defended classifier (K times for randomised defences), and appends
 * one {@link SampleRecord} per image to {@code samples.jsonl}, forced to disk per chunk. A rerun on the same directory
 * skips finished chunks (a chunk with missing lines — a run killed mid-write — is redone), so a killed run finishes
 * with the same numbers as an uninterrupted one: every random draw of a chunk comes from (seed, cell, chunk).
 */
public final class ExperimentRunner {
    public static final String SAMPLES = "samples.jsonl";
    public static final String MANIFEST = "manifest.json";
    /** One record per line (PSNR of an unchanged image is +∞, so special values are allowed). */
    static final com.google.gson.Gson LINE = new com.google.gson.GsonBuilder().serializeSpecialFloatingPointValues()
            .create();

    /** What an experiment runs on: the protected classifier, the images, and training images (AdvP, RHDE). */
    public record Inputs(Classifier classifier, ImageSet eval, ImageSet train) {}

    /** Written once per output directory; a rerun must find the same experiment in it. */
    /**
     * Written once per output directory; a rerun must find the same experiment in it. {@code hashes} (harness v2):
     * SHA-256 of every model's weights and of the evaluation subset's files, so a reproduction can tell whether it
     * ran on the same inputs; {@code seeds} says how the random streams derive from the run seeds.
     */
    public record Manifest(Experiment experiment, String created, String gitCommit, Map<String, String> versions,
            Map<String, CellInfo> cells, int images, String classifier, List<String> history,
            Map<String, String> hashes, String seeds) {
        public Manifest {
            history = history == null ? List.of() : List.copyOf(history);
        }

        public Manifest(Experiment experiment, String created, String gitCommit, Map<String, String> versions,
                Map<String, CellInfo> cells, int images, String classifier, List<String> history) {
            this(experiment, created, gitCommit, versions, cells, images, classifier, history, null, null);
        }
    }

    /** How the run's random streams derive from its seeds (written into the manifest). */
    static final String SEED_DERIVATION = "util.Seed: per (run seed s, cell, chunk): Seed.of(s).child(\"cell:\" + id)"
            + ".child(chunk).child(\"attack\" | \"attack-purification\" | \"judge\" | \"example\"); clean votes "
            + "Seed.of(s).child(\"clean:\" + defence).child(chunk); AdvP patches Seed.of(s).child(\"patch:\" + owner)";

    /** How a cell was run: the threat model line and the gradient mode, for every result. */
    public record CellInfo(String defense, String attack, String mode, String gradientMode, String threatModel,
            String budget) {}

    private final Experiment exp;
    private final Inputs in;
    private final Path dir;
    private final Consumer<String> log;
    private long stopAfterChunks = Long.MAX_VALUE;
    private Function<String, Purifier> defenses = Defenses::parse;

    public ExperimentRunner(Experiment exp, Inputs in, Path dir, Consumer<String> log) {
        this.exp = exp;
        this.in = in;
        this.dir = dir;
        this.log = log;
    }

    /** Builds defences with {@code factory} instead of {@link Defenses#parse}; for tests with synthetic purifiers. */
    ExperimentRunner withDefenses(Function<String, Purifier> factory) {
        this.defenses = factory;
        return this;
    }

    /** Stops (as a kill would) after this many chunks of this invocation; for the resume test. */
    ExperimentRunner stopAfter(long chunks) {
        this.stopAfterChunks = chunks;
        return this;
    }

    int images() {
        return exp.images() == null ? in.eval().size() : Math.min(exp.images(), in.eval().size());
    }

    int chunks() {
        return (images() + exp.batch() - 1) / exp.batch();
    }

    public Manifest manifest(String gitCommit, Map<String, String> versions) {
        Map<String, CellInfo> cells = new LinkedHashMap<>();
        for (Experiment.Cell c : exp.cells()) {
            cells.put(c.id(), info(c));
            cells.putAll(routeCells(c));
        }
        return new Manifest(exp, java.time.Instant.now().toString(), gitCommit, versions, cells, images(),
                in.classifier().name(), List.of(), hashes(), SEED_DERIVATION);
    }

    /** SHA-256 of the classifier's and the diffusion model's weights (from their verified cards) and of the subset. */
    private Map<String, String> hashes() {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> models = new ArrayList<>(List.of(in.classifier().name()));
        if (exp.defenses().stream().anyMatch(d -> d.startsWith("diffpure") || d.startsWith("diffender"))) {
            models.add("diffusion-unified");
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
        Path mf = dir.resolve(MANIFEST);
        if (!Files.exists(mf)) {
            throw new LustraException(dir + " has no " + MANIFEST + "; there is nothing to redo — run without --redo");
        }
        Manifest old = checkSameExperiment(mf);
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
        Path f = dir.resolve(SAMPLES);
        int dropped = 0;
        if (Files.exists(f)) {
            StringBuilder kept = new StringBuilder();
            try {
                for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                    if (line.isBlank()) {
                        continue;
                    }
                    SampleRecord r;
                    try {
                        r = LINE.fromJson(line, SampleRecord.class);
                    } catch (JsonParseException e) {
                        r = null; // a torn line; the next run drops it anyway
                    }
                    if (r != null && ids.contains(r.cell())) {
                        dropped++;
                    } else {
                        kept.append(line).append('\n');
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read " + f, e);
            }
            Files2.writeAtomically(f, kept.toString().getBytes(StandardCharsets.UTF_8));
        }
        for (Experiment.Cell c : exp.cells()) {
            if (ids.contains(c.id())) {
                deleteMatching(dir.resolve("patches"), safe(c.id()) + "-seed"); // older layouts: one per cell
                deleteMatching(dir.resolve("patches"), safe(patchOwner(c)) + "-seed");
                deleteMatching(dir.resolve("examples"), safe(c.id()) + ".png");
            }
        }
        List<String> history = new ArrayList<>(old.history());
        history.add(java.time.Instant.now() + " at git commit " + gitCommit + ": redid " + matched + " ("
                + dropped + " sample records dropped)");
        Json.writeAtomically(mf, new Manifest(old.experiment(), old.created(), old.gitCommit(), old.versions(),
                cells, old.images(), old.classifier(), history, old.hashes(), old.seeds()));
        log.accept("Redo: dropped " + dropped + " records of " + matched.size() + " cell(s) " + matched);
        return matched;
    }

    private static void deleteMatching(Path folder, String prefix) {
        if (!Files.isDirectory(folder)) {
            return;
        }
        try (var files = Files.list(folder)) {
            for (Path p : files.filter(p -> p.getFileName().toString().startsWith(prefix)).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot clear " + folder, e);
        }
    }

    private Manifest checkSameExperiment(Path mf) {
        Manifest old = Json.read(mf, Manifest.class);
        if (!Json.GSON.toJson(old.experiment()).equals(Json.GSON.toJson(exp)) || old.images() != images()) {
            throw new LustraException(dir + " holds results of a different experiment config; use another --out "
                    + "or delete the directory to start over.");
        }
        return old;
    }

    /** Runs what is not done yet; returns the number of chunks computed by this call. */
    public long run(Manifest manifest) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create " + dir, e);
        }
        Path mf = dir.resolve(MANIFEST);
        if (Files.exists(mf)) {
            checkSameExperiment(mf);
        } else {
            Json.writeAtomically(mf, manifest);
        }
        Set<String> done = loadFinishedChunks();
        List<Experiment.Cell> cells = exp.cells();
        int n = images();
        long totalImages = (long) exp.seeds().size() * cells.size() * n;
        long doneImages = 0;
        for (String key : done) {
            if (!key.contains("@")) { // per-route records of worst-of cells come with their cell's chunk
                doneImages += chunkSize(Integer.parseInt(key.substring(key.lastIndexOf('#') + 1)));
            }
        }
        Progress progress = new Progress("eval " + exp.name(), totalImages, "images");
        progress.startAt(doneImages);
        if (doneImages > 0) {
            log.accept(String.format(Locale.ROOT, "Resuming %s: %d of %d image evaluations already done", dir,
                    doneImages, totalImages));
        }
        long computed = 0;
        Map<String, float[]> universal = new HashMap<>();
        for (long seed : exp.seeds()) {
            for (Experiment.Cell cell : cells) {
                for (int chunk = 0; chunk < chunks(); chunk++) {
                    if (done.contains(key(seed, cell, chunk))) {
                        continue;
                    }
                    if (computed >= stopAfterChunks) {
                        return computed;
                    }
                    List<SampleRecord> recs = runChunk(seed, cell, chunk, universal);
                    append(recs);
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
        return runChunk(seed, cell, chunk, new HashMap<>());
    }

    private int chunkSize(int chunk) {
        return Math.min(images(), (chunk + 1) * exp.batch()) - chunk * exp.batch();
    }

    static String key(long seed, Experiment.Cell cell, int chunk) {
        return key(seed, cell.id(), chunk);
    }

    static String key(long seed, String cell, int chunk) {
        return seed + "#" + cell + "#" + chunk;
    }

    /** Reads the records, keeps complete chunks only, and rewrites the file if anything was dropped. */
    private Set<String> loadFinishedChunks() {
        Path f = dir.resolve(SAMPLES);
        Set<String> finished = new HashSet<>();
        if (!Files.exists(f)) {
            return finished;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + f, e);
        }
        Map<String, List<String>> byChunk = new LinkedHashMap<>();
        int bad = 0;
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            try {
                SampleRecord r = LINE.fromJson(line, SampleRecord.class);
                byChunk.computeIfAbsent(key(r.seed(), r.cell(), r.chunk()), k -> new ArrayList<>()).add(line);
            } catch (JsonParseException e) {
                bad++;
            }
        }
        StringBuilder kept = new StringBuilder();
        int dropped = bad;
        for (Map.Entry<String, List<String>> e : byChunk.entrySet()) {
            int chunk = Integer.parseInt(e.getKey().substring(e.getKey().lastIndexOf('#') + 1));
            if (e.getValue().size() == chunkSize(chunk)) {
                finished.add(e.getKey());
                e.getValue().forEach(l -> kept.append(l).append('\n'));
            } else {
                dropped += e.getValue().size();
            }
        }
        if (dropped > 0) {
            log.accept("Dropping " + dropped + " line(s) of unfinished chunks from " + f + "; they are recomputed");
            Files2.writeAtomically(f, kept.toString().getBytes(StandardCharsets.UTF_8));
        }
        return finished;
    }

    private void append(List<SampleRecord> recs) {
        StringBuilder sb = new StringBuilder();
        for (SampleRecord r : recs) {
            sb.append(LINE.toJson(r)).append('\n');
        }
        try (FileChannel ch = FileChannel.open(dir.resolve(SAMPLES), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ch.write(ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot append to " + dir.resolve(SAMPLES), e);
        }
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

    private CellInfo info(Experiment.Cell cell) {
        Purifier p = defenses.apply(cell.defense());
        Experiment.AttackSpec a = cell.attack();
        boolean blackBox = a.attack().equals("square") || a.attack().equals("rhde");
        List<Route> routes = routes(cell, p);
        String grad = routes.size() == 1 ? routes.get(0).label(p, blackBox)
                : "worst of " + routes.size() + " routes per image: " + String.join(" | ", routes.stream()
                        .map(r -> r.label(p, blackBox)).toList());
        String threat = p == null ? "undefended " + in.classifier().name()
                : cell.mode().equals("nonadaptive") ? p.name() + " -> " + in.classifier().name()
                        + ", attacker unaware of the defence"
                : p.name() + " -> " + in.classifier().name() + ", adaptive white-box attacker";
        String budget = a.patch() ? String.format(Locale.ROOT, "patch %.1f%% of the image (%d px side), %s",
                100 * a.fraction(), Patch.side(a.fraction(), in.eval().height(), in.eval().width()), iterations(a))
                : String.format(Locale.ROOT, "%s eps=%.4f, %s", a.norm(), a.eps(), iterations(a));
        return new CellInfo(cell.defense(), a.id(), cell.mode(), grad, threat, budget);
    }

    /**
     * For a worst-of cell, one extra cell per route ({@code <cell id>@<MODE>}): the same attack's outcome through that
     * route alone, written from the same run, so a report shows every route and their per-image worst side by side.
     */
    private Map<String, CellInfo> routeCells(Experiment.Cell cell) {
        Purifier p = defenses.apply(cell.defense());
        List<Route> routes = routes(cell, p);
        Map<String, CellInfo> out = new LinkedHashMap<>();
        if (routes.size() > 1) {
            CellInfo base = info(cell);
            for (Route r : routes) {
                out.put(routeCellId(cell, r), new CellInfo(base.defense(), base.attack(), cell.mode() + "@"
                        + r.mode().name(), r.label(p, false), base.threatModel(), base.budget()));
            }
        }
        return out;
    }

    static String routeCellId(Experiment.Cell cell, Route r) {
        return cell.id() + "@" + r.mode().name();
    }

    /** The one route a cell is both run and labelled with (the first of {@link #routes} for worst-of). */
    Route route(Experiment.Cell cell, Purifier p) {
        boolean adaptive = p != null && cell.mode().equals("adaptive");
        return Route.of(p, adaptive, adaptive ? adaptiveMode(p) : GradientMode.EXACT, eot(cell.attack(), p),
                votes(p));
    }

    /**
     * The routes a cell runs: one, or for "worst-of" on an adaptive gradient attack every mode the defence offers
     * (EXACT, SURROGATE, STE, BPDA in that order); black-box attacks need no gradient and run once.
     */
    List<Route> routes(Experiment.Cell cell, Purifier p) {
        Route first = route(cell, p);
        boolean blackBox = cell.attack().attack().equals("square") || cell.attack().attack().equals("rhde");
        if (!exp.gradient().equals("worst-of") || !first.adaptive() || blackBox) {
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

    private String iterations(Experiment.AttackSpec a) {
        return switch (a.attack()) {
            case "pgd" -> steps(a, 20, 200) + " steps, random start";
            case "fgsm" -> "1 step";
            case "apgd-ce", "apgd-dlr", "fab-t" -> steps(a, 50, 100) + " iterations";
            case "square" -> queries(a) + " queries";
            case "autoattack" -> "standard: APGD-CE, APGD-T, FAB-T " + steps(a, 50, 100) + " iterations, Square "
                    + queries(a) + " queries";
            case "autoattack-rand" -> "rand: APGD-CE, APGD-DLR " + steps(a, 50, 100) + " iterations";
            case "lavan", "gdpa" -> steps(a, 50, 100) + " iterations";
            case "advp" -> (a.target() == null ? "universal, targeted at the best of the classes on held-out training "
                    + "images" : a.target() < 0 ? "universal, untargeted" : "universal, targeted at class " + a.target())
                    + ", " + steps(a, 50, 100) + " iterations of batch 32 on training images, random placement";
            case "rhde" -> "population 20, " + steps(a, 25, 50) + " generations";
            default -> throw new IllegalStateException(a.attack());
        };
    }

    private int steps(Experiment.AttackSpec a, int quick, int paper) {
        return a.steps() != null ? a.steps() : exp.paper() ? paper : quick;
    }

    private int queries(Experiment.AttackSpec a) {
        return a.queries() != null ? a.queries() : exp.paper() ? 5000 : 1000;
    }

    private int eot(Experiment.AttackSpec a, Purifier p) {
        if (p == null || !p.randomized()) {
            return 1;
        }
        return a.eot() != null ? a.eot() : exp.paper() ? 20 : 4;
    }

    private int votes(Purifier p) {
        return p != null && p.randomized() ? (exp.paper() ? 10 : 3) : 1;
    }

    /**
     * The random streams of a chunk, derived by splitting from the run seed (recorded in the manifest): the attack's
     * own draws and the purifications it causes depend on (seed, cell, chunk); the clean-accuracy votes on
     * (seed, defence, chunk) only, so every cell of a defence shares one clean accuracy; the judging votes of the
     * adversarial inputs are independent of the attack's streams.
     */
    record ChunkSeeds(long attack, long attackPurification, long judge, long clean, long example) {
        static ChunkSeeds of(long seed, Experiment.Cell cell, int chunk) {
            Seed chunkSeed = Seed.of(seed).child("cell:" + cell.id()).child(chunk);
            return new ChunkSeeds(chunkSeed.child("attack").value(), chunkSeed.child("attack-purification").value(),
                    chunkSeed.child("judge").value(),
                    Seed.of(seed).child("clean:" + cell.defense()).child(chunk).value(),
                    chunkSeed.child("example").value());
        }
    }

    /** The seed of a universal patch (AdvP) of one owner and run seed. */
    static long patchSeed(long seed, String owner) {
        return Seed.of(seed).child("patch:" + owner).value();
    }

    /** What one attack produced on a chunk. */
    private record Outcome(float[] adversarial, float[] masks, long forwardImages, GradientCounts gradients) {}

    private List<SampleRecord> runChunk(long seed, Experiment.Cell cell, int chunk, Map<String, float[]> universal) {
        int from = chunk * exp.batch();
        int to = Math.min(images(), from + exp.batch());
        int n = to - from;
        ImageSet set = in.eval();
        int c = set.channels();
        int h = set.height();
        int w = set.width();
        Shape image = new Shape(c, h, w);
        Purifier p = defenses.apply(cell.defense());
        Classifier cls = in.classifier();
        DefendedClassifier defended = p == null ? null : new DefendedClassifier(p, cls);
        ChunkSeeds seeds = ChunkSeeds.of(seed, cell, chunk);
        int[] labels = Arrays.copyOfRange(set.labels(), from, to);
        List<Route> routes = routes(cell, p);
        try (NDManager m = NDManager.newBaseManager()) {
            float[] x = set.batch(m, from, to).toFloatArray();
            int votes = routes.get(0).votes();
            int[][] cleanVotes = predict(m, defended, cls, x, n, image, votes, seeds.clean());
            int d = c * h * w;
            float[] adv = new float[x.length];
            float[] masks = null;
            boolean[] nonFinite = new boolean[n];
            int[][] advVotes = new int[votes][n];
            String[] chosen = routes.size() > 1 ? new String[n] : null;
            int[] worst = new int[n];
            Arrays.fill(worst, -1);
            long forward = 0;
            GradientCounts gradients = GradientCounts.NONE;
            List<SampleRecord> perRoute = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int ri = 0; ri < routes.size(); ri++) {
                Route route = routes.get(ri);
                String tag = routes.size() > 1 ? ":" + route.mode().name() : "";
                Outcome o = attackVia(route, cell, seed, chunk, m, x, labels, image, defended, cls, universal,
                        seeds.attackPurification() + ri, seeds.attack());
                float[] a = o.adversarial().clone();
                boolean[] bad = Scoring.replaceNonFinite(a, x, n);
                int[][] v = predict(m, defended, cls, a, n, image, votes,
                        Seed.of(seeds.judge()).child("judge" + tag).value());
                forward += o.forwardImages();
                gradients = gradients.plus(o.gradients());
                if (routes.size() > 1) {
                    perRoute.addAll(Scoring.records(new Scoring.Chunk(seed, routeCellId(cell, route), chunk, from,
                            labels, x, a, o.masks(), bad, cleanVotes, v, c, h, w,
                            (System.nanoTime() - t0) / 1e6 / n, o.forwardImages() / n, o.gradients(), null)));
                }
                for (int i = 0; i < n; i++) {
                    int b = Scoring.badness(v, i, labels[i]);
                    if (b > worst[i]) {
                        worst[i] = b;
                        System.arraycopy(a, i * d, adv, i * d, d);
                        nonFinite[i] = bad[i];
                        for (int k = 0; k < votes; k++) {
                            advVotes[k][i] = v[k][i];
                        }
                        if (o.masks() != null) {
                            masks = masks == null ? new float[n * h * w] : masks;
                            System.arraycopy(o.masks(), i * h * w, masks, i * h * w, h * w);
                        }
                        if (chosen != null) {
                            chosen[i] = route.mode().name();
                        }
                    }
                }
            }
            double ms = (System.nanoTime() - t0) / 1e6 / n;
            List<SampleRecord> out = Scoring.records(new Scoring.Chunk(seed, cell.id(), chunk, from, labels, x, adv,
                    masks, nonFinite, cleanVotes, advVotes, c, h, w, ms, forward / n, gradients, chosen));
            if (chunk == 0 && seed == exp.seeds().get(0)) {
                writeExample(cell, m, defended, x, adv, Math.min(n, 8), image, seeds.example());
            }
            out.addAll(perRoute);
            return out;
        }
    }

    /** Runs the cell's attack on one chunk through one route. */
    private Outcome attackVia(Route route, Experiment.Cell cell, long seed, int chunk, NDManager m, float[] x,
            int[] labels, Shape image, DefendedClassifier defended, Classifier cls, Map<String, float[]> universal,
            long purificationSeed, long attackSeed) {
        AtomicLong callSeed = new AtomicLong(Seed.of(purificationSeed).value());
        // Forward-only queries see the real defence; gradients take the route's mode. Long chains (DiffPure) give
        // their EXACT/SURROGATE gradients by recomputation through the oracle, not one huge autograd graph.
        Function<NDArray, NDArray> target = !route.adaptive() ? cls::logits
                : route.viaOracle() ? z -> defended.logits(z, GradientMode.BPDA, callSeed.incrementAndGet())
                : z -> defended.logits(z, route.mode(), callSeed.incrementAndGet());
        AttackModel.GradientOracle oracle = !route.viaOracle() ? null : (rows, loss) -> {
            DefendedClassifier.LossGradient lg = defended.lossGradient(rows, route.mode(), callSeed.incrementAndGet(),
                    loss);
            return new NDArray[] {lg.loss(), lg.logits(), lg.gradient()};
        };
        // non-adaptive cells against a randomised defence also run full length (their target, the classifier, is
        // deterministic, so one vote confirms)
        AttackModel model = new AttackModel(target, oracle, m, image, route.eot(), route.randomized(),
                route.attackVotes());
        return attack(cell, seed, model, x, labels, attackSeed, route, universal, m, chunk);
    }

    private Outcome attack(Experiment.Cell cell, long seed, AttackModel model, float[] x, int[] labels,
            long attackSeed, Route route, Map<String, float[]> universal, NDManager m, int chunk) {
        Experiment.AttackSpec a = cell.attack();
        switch (a.attack()) {
            case "pgd", "fgsm" -> {
                Norm norm = Norm.parse(a.norm());
                Pgd.Options o = a.attack().equals("fgsm") ? new Pgd.Options(norm, a.eps(), 1, a.eps(), false, 0)
                        : new Pgd.Options(norm, a.eps(), steps(a, 20, 200), 0, true, attackSeed);
                AttackResult r = Pgd.attack(model, x, labels, o, null);
                return new Outcome(r.adversarial(), null, r.forwardImages(), GradientCounts.of(model));
            }
            case "apgd-ce", "apgd-dlr" -> {
                AttackResult r = Apgd.attack(model, x, labels, null, new Apgd.Options(Norm.parse(a.norm()), a.eps(),
                        steps(a, 50, 100), a.attack().equals("apgd-ce") ? AttackModel.Loss.CE : AttackModel.Loss.DLR,
                        1, attackSeed));
                return new Outcome(r.adversarial(), null, r.forwardImages(), GradientCounts.of(model));
            }
            case "square" -> {
                AttackResult r = Square.attack(model, x, labels, new Square.Options(Norm.parse(a.norm()), a.eps(),
                        queries(a), 0.8, attackSeed));
                return new Outcome(r.adversarial(), null, r.forwardImages(), GradientCounts.of(model));
            }
            case "fab-t" -> {
                AttackResult r = FabT.attack(model, x, labels, new FabT.Options(Norm.parse(a.norm()), a.eps(),
                        steps(a, 50, 100), 9));
                return new Outcome(r.adversarial(), null, r.forwardImages(), GradientCounts.of(model));
            }
            case "autoattack", "autoattack-rand" -> {
                Norm norm = Norm.parse(a.norm());
                AutoAttack.Options o = a.attack().equals("autoattack")
                        ? new AutoAttack.Options(AutoAttack.Version.STANDARD, norm, a.eps(), steps(a, 50, 100), 9,
                                queries(a), 1, attackSeed)
                        : new AutoAttack.Options(AutoAttack.Version.RAND, norm, a.eps(), steps(a, 50, 100), 9,
                                queries(a), Math.max(route.eot(), a.eot() != null ? a.eot() : exp.paper() ? 20 : 4),
                                attackSeed);
                AutoAttack.Report r = AutoAttack.run(model, x, labels, o, s -> { });
                r.warnings().forEach(wn -> log.accept("AutoAttack warning [" + cell.id() + " chunk " + chunk + "]: "
                        + wn));
                return new Outcome(r.adversarial(), null, r.forwardImages(), r.gradients());
            }
            case "lavan" -> {
                Patch.Result r = LaVan.attack(model, x, labels, new LaVan.Options(a.fraction(), steps(a, 50, 100),
                        0.05, attackSeed));
                return new Outcome(r.adversarial(), r.masks(), r.forwardImages(), GradientCounts.of(model));
            }
            case "gdpa" -> {
                Patch.Result r = GdpaLike.attack(model, x, labels, new GdpaLike.Options(a.fraction(),
                        steps(a, 50, 100), 0.05, 5, 3, attackSeed));
                return new Outcome(r.adversarial(), r.masks(), r.forwardImages(), GradientCounts.of(model));
            }
            case "advp" -> {
                float[] patch = universalPatch(seed, cell, model, universal);
                Patch.Result r = AdvPatch.apply(model, patch, x, labels, a.fraction(), attackSeed);
                return new Outcome(r.adversarial(), r.masks(), r.forwardImages(), GradientCounts.of(model));
            }
            case "rhde" -> {
                ImageSet src = in.train();
                int k = Math.min(src.size(), 1000);
                float[] sources;
                try (NDManager s = m.newSubManager()) {
                    sources = src.batch(s, 0, k).toFloatArray();
                }
                Patch.Result r = RhdeLike.attack(model, x, labels, sources, Arrays.copyOf(src.labels(), k),
                        new RhdeLike.Options(a.fraction(), 20, steps(a, 25, 50), 0.7, false, attackSeed));
                return new Outcome(r.adversarial(), r.masks(), r.forwardImages(), GradientCounts.of(model));
            }
            default -> throw new IllegalStateException(a.attack());
        }
    }

    /** Predictions of the defended model (or the bare classifier), {@code votes} independent evaluations. */
    private static int[][] predict(NDManager m, DefendedClassifier defended, Classifier cls, float[] x, int n,
            Shape image, int votes, long seed) {
        int[][] out = new int[votes][n];
        for (int v = 0; v < votes; v++) {
            try (NDManager s = m.newSubManager()) {
                NDArray xa = s.create(x, new Shape(n, image.get(0), image.get(1), image.get(2)));
                NDArray logits = defended == null ? cls.logits(xa) : defended.logits(xa, GradientMode.BPDA, seed + v);
                long[] pred = logits.argMax(1).toLongArray();
                for (int i = 0; i < n; i++) {
                    out[v][i] = (int) pred[i];
                }
            }
        }
        return out;
    }

    static int majority(int[][] votes, int i, int label) {
        return Scoring.majority(votes, i, label);
    }

    /**
     * Whose universal patch a cell uses. Against the bare classifier (undefended and non-adaptive cells) it is one
     * patch per (seed, attack), so every defence faces the same patch and their non-adaptive numbers compare; an
     * adaptive cell trains its own through its defence.
     */
    static String patchOwner(Experiment.Cell cell) {
        return cell.defense().equals("none") || cell.mode().equals("nonadaptive") ? "bare|" + cell.attack().id()
                : cell.id();
    }

    /**
     * How an AdvP patch was made, next to it in {@code patches/}: its target (-1 untargeted), for best-of-classes the
     * held-out fooling rate of the kept and of every target, and the one-off training time (not in ms/img).
     */
    record PatchInfo(int target, Double heldOutFoolRate, double[] foolRateByTarget, Double trainSeconds) {}

    /** AdvP's universal patch of (seed, cell): trained once on training images, cached on disk for resumes. */
    private float[] universalPatch(long seed, Experiment.Cell cell, AttackModel model, Map<String, float[]> cache) {
        String owner = patchOwner(cell);
        String key = seed + "#" + owner;
        if (cache.containsKey(key)) {
            return cache.get(key);
        }
        Path file = dir.resolve("patches").resolve(safe(owner) + "-seed" + seed + ".json");
        float[] patch;
        if (Files.exists(file)) {
            patch = Json.read(file, float[].class);
        } else {
            ImageSet train = in.train();
            int k = Math.min(train.size(), 2000);
            float[] x;
            try (NDManager s = NDManager.newBaseManager()) {
                x = train.batch(s, 0, k).toFloatArray();
            }
            Experiment.AttackSpec a = cell.attack();
            AdvPatch.Options opt = new AdvPatch.Options(a.fraction(), steps(a, 50, 100), 32, 0.05,
                    patchSeed(seed, owner), a.target() == null ? AdvPatch.UNTARGETED : a.target());
            int[] y = Arrays.copyOf(train.labels(), k);
            long t0 = System.nanoTime();
            PatchInfo info;
            if (a.target() == null) {
                AdvPatch.Trained t = AdvPatch.trainBest(model, x, y, opt);
                patch = t.patch();
                info = new PatchInfo(t.target(), t.heldOutFoolRate(), t.foolRateByTarget(), (System.nanoTime() - t0)
                        / 1e9);
                log.accept(String.format(java.util.Locale.ROOT, "AdvP %s seed %d: best target class %d fools "
                        + "%.1f %% of held-out training images (per class %s), trained in %.0f s", cell.id(), seed,
                        t.target(), 100 * t.heldOutFoolRate(), Arrays.toString(Arrays.stream(
                                t.foolRateByTarget()).map(r -> Math.round(r * 1000) / 10.0).toArray()),
                        (double) info.trainSeconds()));
            } else {
                patch = AdvPatch.train(model, x, y, opt);
                info = new PatchInfo(a.target(), null, null, (System.nanoTime() - t0) / 1e9);
            }
            try {
                Files.createDirectories(file.getParent());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Json.writeAtomically(file.resolveSibling(file.getFileName().toString().replace(".json", ".info.json")),
                    info);
            Json.writeAtomically(file, patch);
        }
        cache.put(key, patch);
        return patch;
    }

    static String safe(String id) {
        return id.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    private void writeExample(Experiment.Cell cell, NDManager m, DefendedClassifier defended, float[] x, float[] adv,
            int k, Shape image, long seed) {
        int d = Math.toIntExact(image.size());
        int rows = defended == null ? 2 : 3;
        float[] grid = new float[rows * k * d];
        System.arraycopy(x, 0, grid, 0, k * d);
        System.arraycopy(adv, 0, grid, k * d, k * d);
        if (defended != null) {
            try (NDManager s = m.newSubManager()) {
                float[] purified = defended.purifier().purify(s.create(Arrays.copyOf(adv, k * d),
                        new Shape(k, image.get(0), image.get(1), image.get(2))), seed).toFloatArray();
                System.arraycopy(purified, 0, grid, 2 * k * d, k * d);
            }
        }
        Path out = dir.resolve("examples").resolve(safe(cell.id()) + ".png");
        ImageFiles.writeGrid(out, grid, rows * k, (int) image.get(0), (int) image.get(1), (int) image.get(2), k);
    }
}
