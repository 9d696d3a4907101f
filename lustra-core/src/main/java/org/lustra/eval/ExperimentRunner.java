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
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import org.lustra.attack.AdvPatch;
import org.lustra.attack.Apgd;
import org.lustra.attack.AttackModel;
import org.lustra.attack.AutoAttack;
import org.lustra.attack.FabT;
import org.lustra.attack.GdpaLike;
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
import org.lustra.defense.RecomputablePurifier;
import org.lustra.model.Classifier;
import org.lustra.util.Files2;
import org.lustra.util.Json;
import org.lustra.util.LustraException;
import org.lustra.util.Progress;

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
    public record Manifest(Experiment experiment, String created, String gitCommit, Map<String, String> versions,
            Map<String, CellInfo> cells, int images, String classifier, List<String> history) {
        public Manifest {
            history = history == null ? List.of() : List.copyOf(history);
        }
    }

    /** How a cell was run: the threat model line and the gradient mode, for every result. */
    public record CellInfo(String defense, String attack, String mode, String gradientMode, String threatModel,
            String budget) {}

    private final Experiment exp;
    private final Inputs in;
    private final Path dir;
    private final Consumer<String> log;
    private long stopAfterChunks = Long.MAX_VALUE;

    public ExperimentRunner(Experiment exp, Inputs in, Path dir, Consumer<String> log) {
        this.exp = exp;
        this.in = in;
        this.dir = dir;
        this.log = log;
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
        }
        return new Manifest(exp, java.time.Instant.now().toString(), gitCommit, versions, cells, images(),
                in.classifier().name(), List.of());
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
                cells, old.images(), old.classifier(), history));
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
            doneImages += chunkSize(Integer.parseInt(key.substring(key.lastIndexOf('#') + 1)));
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
                    doneImages += recs.size();
                    progress.update(doneImages, cell.id());
                }
            }
        }
        progress.finish(doneImages, "done");
        return computed;
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
        GradientMode m = switch (exp.gradient()) {
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
        Purifier p = Defenses.parse(cell.defense());
        Experiment.AttackSpec a = cell.attack();
        boolean blackBox = a.attack().equals("square") || a.attack().equals("rhde");
        String grad;
        String threat;
        if (p == null) {
            grad = blackBox ? "none (black-box, logits only)" : "EXACT";
            threat = "undefended " + in.classifier().name();
        } else if (cell.mode().equals("nonadaptive")) {
            grad = (blackBox ? "none (black-box)" : "EXACT") + " on the classifier alone (non-adaptive: the attack "
                    + "ignores the defence; its output is then purified)";
            threat = p.name() + " -> " + in.classifier().name() + ", attacker unaware of the defence";
        } else {
            GradientMode gm = adaptiveMode(p);
            grad = blackBox ? "none (black-box queries through the defence)" : gm.name()
                    + (gm == GradientMode.EXACT && p instanceof RecomputablePurifier ? " (step-by-step recomputation)"
                            : gm == GradientMode.STE ? " (straight-through thresholds, exact localisation, BPDA for "
                                    + "the repainted pixels)"
                            : gm == GradientMode.SURROGATE && p instanceof RecomputablePurifier r
                                    ? " (" + r.surrogate().name() + ")" : "")
                    + " through " + p.name() + (p.randomized() ? " with EOT " + eot(a, p) : "");
            threat = p.name() + " -> " + in.classifier().name() + ", adaptive white-box attacker";
        }
        String budget = a.patch() ? String.format(Locale.ROOT, "patch %.1f%% of the image (%d px side), %s",
                100 * a.fraction(), Patch.side(a.fraction(), in.eval().height(), in.eval().width()), iterations(a))
                : String.format(Locale.ROOT, "%s eps=%.4f, %s", a.norm(), a.eps(), iterations(a));
        return new CellInfo(cell.defense(), a.id(), cell.mode(), grad, threat, budget);
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

    static long mix(long seed, String cell, int chunk) {
        long h = seed * 0x9E3779B97F4A7C15L + cell.hashCode() * 0xC2B2AE3D27D4EB4FL + chunk * 0x165667B19E3779F9L;
        return new java.util.SplittableRandom(h).nextLong();
    }

    private List<SampleRecord> runChunk(long seed, Experiment.Cell cell, int chunk, Map<String, float[]> universal) {
        int from = chunk * exp.batch();
        int to = Math.min(images(), from + exp.batch());
        int n = to - from;
        ImageSet set = in.eval();
        int c = set.channels();
        int h = set.height();
        int w = set.width();
        int d = c * h * w;
        Shape image = new Shape(c, h, w);
        Purifier p = Defenses.parse(cell.defense());
        Classifier cls = in.classifier();
        DefendedClassifier defended = p == null ? null : new DefendedClassifier(p, cls);
        Experiment.AttackSpec a = cell.attack();
        long chunkSeed = mix(seed, cell.id(), chunk);
        int[] labels = java.util.Arrays.copyOfRange(set.labels(), from, to);
        boolean adaptive = p != null && cell.mode().equals("adaptive");
        java.util.concurrent.atomic.AtomicLong callSeed = new java.util.concurrent.atomic.AtomicLong(chunkSeed);
        GradientMode mode = adaptive ? adaptiveMode(p) : GradientMode.EXACT;
        // Forward-only queries see the real defence; gradients take the configured route. Long chains (DiffPure)
        // give their EXACT/SURROGATE gradients by recomputation through the oracle, not one huge autograd graph.
        boolean viaOracle = adaptive && p instanceof RecomputablePurifier
                && (mode == GradientMode.EXACT || mode == GradientMode.SURROGATE);
        Function<NDArray, NDArray> target = !adaptive ? cls::logits
                : viaOracle ? x -> defended.logits(x, GradientMode.BPDA, callSeed.incrementAndGet())
                : x -> defended.logits(x, mode, callSeed.incrementAndGet());
        AttackModel.GradientOracle oracle = !viaOracle ? null : (rows, loss) -> {
            DefendedClassifier.LossGradient lg = defended.lossGradient(rows, mode, callSeed.incrementAndGet(), loss);
            return new NDArray[] {lg.loss(), lg.logits(), lg.gradient()};
        };
        int eot = adaptive ? eot(a, p) : 1;
        try (NDManager m = NDManager.newBaseManager()) {
            float[] x = set.batch(m, from, to).toFloatArray();
            AttackModel model = new AttackModel(target, oracle, m, image, eot);
            long t0 = System.nanoTime();
            float[] adv;
            float[] masks = null;
            long forward;
            switch (a.attack()) {
                case "pgd", "fgsm" -> {
                    Norm norm = Norm.parse(a.norm());
                    Pgd.Options o = a.attack().equals("fgsm") ? new Pgd.Options(norm, a.eps(), 1, a.eps(), false, 0)
                            : new Pgd.Options(norm, a.eps(), steps(a, 20, 200), 0, true, chunkSeed);
                    long[] count = new long[1];
                    Function<NDArray, NDArray> counted = z -> {
                        count[0] += z.getShape().get(0);
                        return target.apply(z);
                    };
                    try (NDManager s = m.newSubManager()) {
                        adv = Pgd.attack(counted, s.create(x, new Shape(n, c, h, w)), labels, o).adversarial()
                                .toFloatArray();
                    }
                    forward = count[0];
                }
                case "apgd-ce", "apgd-dlr" -> {
                    adv = Apgd.attack(model, x, labels, null, new Apgd.Options(Norm.parse(a.norm()), a.eps(),
                            steps(a, 50, 100), a.attack().equals("apgd-ce") ? AttackModel.Loss.CE
                                    : AttackModel.Loss.DLR, 1, chunkSeed)).adversarial();
                    forward = model.forwardImages();
                }
                case "square" -> {
                    adv = Square.attack(model, x, labels, new Square.Options(Norm.parse(a.norm()), a.eps(),
                            queries(a), 0.8, chunkSeed)).adversarial();
                    forward = model.forwardImages();
                }
                case "fab-t" -> {
                    adv = FabT.attack(model, x, labels, new FabT.Options(Norm.parse(a.norm()), a.eps(),
                            steps(a, 50, 100), 9)).adversarial();
                    forward = model.forwardImages();
                }
                case "autoattack", "autoattack-rand" -> {
                    Norm norm = Norm.parse(a.norm());
                    AutoAttack.Options o = a.attack().equals("autoattack")
                            ? new AutoAttack.Options(AutoAttack.Version.STANDARD, norm, a.eps(), steps(a, 50, 100), 9,
                                    queries(a), 1, chunkSeed)
                            : new AutoAttack.Options(AutoAttack.Version.RAND, norm, a.eps(), steps(a, 50, 100), 9,
                                    queries(a), Math.max(eot, a.eot() != null ? a.eot() : exp.paper() ? 20 : 4),
                                    chunkSeed);
                    AutoAttack.Report r = AutoAttack.run(target, oracle, m, image, x, labels, o, s -> { });
                    r.warnings().forEach(wn -> log.accept("AutoAttack warning [" + cell.id() + " chunk " + chunk
                            + "]: " + wn));
                    adv = r.adversarial();
                    forward = r.forwardImages();
                }
                case "lavan" -> {
                    Patch.Result r = LaVan.attack(model, x, labels, new LaVan.Options(a.fraction(),
                            steps(a, 50, 100), 0.05, chunkSeed));
                    adv = r.adversarial();
                    masks = r.masks();
                    forward = r.forwardImages();
                }
                case "gdpa" -> {
                    Patch.Result r = GdpaLike.attack(model, x, labels, new GdpaLike.Options(a.fraction(),
                            steps(a, 50, 100), 0.05, 5, 3, chunkSeed));
                    adv = r.adversarial();
                    masks = r.masks();
                    forward = r.forwardImages();
                }
                case "advp" -> {
                    float[] patch = universalPatch(seed, cell, model, universal);
                    Patch.Result r = AdvPatch.apply(model, patch, x, labels, a.fraction(), chunkSeed);
                    adv = r.adversarial();
                    masks = r.masks();
                    forward = r.forwardImages();
                }
                case "rhde" -> {
                    ImageSet src = in.train();
                    int k = Math.min(src.size(), 1000);
                    float[] sources;
                    try (NDManager s = m.newSubManager()) {
                        sources = src.batch(s, 0, k).toFloatArray();
                    }
                    Patch.Result r = RhdeLike.attack(model, x, labels, sources,
                            java.util.Arrays.copyOf(src.labels(), k), new RhdeLike.Options(a.fraction(), 20,
                                    steps(a, 25, 50), 0.7, false, chunkSeed));
                    adv = r.adversarial();
                    masks = r.masks();
                    forward = r.forwardImages();
                }
                default -> throw new IllegalStateException(a.attack());
            }
            double ms = (System.nanoTime() - t0) / 1e6 / n;
            int votes = votes(p);
            int[][] cleanVotes = predict(m, defended, cls, x, n, image, votes, chunkSeed ^ 0x5DEECE66DL);
            int[][] advVotes = predict(m, defended, cls, adv, n, image, votes, chunkSeed ^ 0xB5AD4ECEDA1CE2A9L);
            List<SampleRecord> out = new ArrayList<>(n);
            Norm linf = Norm.LINF;
            for (int i = 0; i < n; i++) {
                int cleanPred = majority(cleanVotes, i, labels[i]);
                int advPred = majority(advVotes, i, labels[i]);
                boolean anyFooled = false;
                for (int[] v : advVotes) {
                    anyFooled |= v[i] != labels[i];
                }
                Double area = null;
                if (masks != null) {
                    double s = 0;
                    for (int j = i * h * w; j < (i + 1) * h * w; j++) {
                        s += masks[j];
                    }
                    area = s;
                }
                out.add(new SampleRecord(seed, cell.id(), chunk, from + i, labels[i], cleanPred, advPred,
                        cleanPred == labels[i], advPred == labels[i], votes > 1 ? anyFooled : null, votes,
                        linf.distance(adv, x, i * d, d), Norm.L2.distance(adv, x, i * d, d),
                        Metrics.psnr(adv, i * d, x, i * d, d), Metrics.ssim(adv, i * d, x, i * d, c, h, w), area, ms,
                        forward / n));
            }
            if (chunk == 0 && seed == exp.seeds().get(0)) {
                writeExample(cell, m, defended, x, adv, Math.min(n, 8), image, chunkSeed);
            }
            return out;
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

    /** The most frequent prediction; a tie between the true label and another goes to the other (conservative). */
    static int majority(int[][] votes, int i, int label) {
        Map<Integer, Integer> count = new HashMap<>();
        for (int[] v : votes) {
            count.merge(v[i], 1, Integer::sum);
        }
        int best = -1;
        int bestCount = -1;
        for (Map.Entry<Integer, Integer> e : count.entrySet()) {
            int k = e.getKey();
            int cnt = e.getValue();
            if (cnt > bestCount || (cnt == bestCount && best == label)) {
                best = k;
                bestCount = cnt;
            }
        }
        return best;
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
                    mix(seed, owner, -1), a.target() == null ? AdvPatch.UNTARGETED : a.target());
            int[] y = java.util.Arrays.copyOf(train.labels(), k);
            long t0 = System.nanoTime();
            PatchInfo info;
            if (a.target() == null) {
                AdvPatch.Trained t = AdvPatch.trainBest(model, x, y, opt);
                patch = t.patch();
                info = new PatchInfo(t.target(), t.heldOutFoolRate(), t.foolRateByTarget(), (System.nanoTime() - t0)
                        / 1e9);
                log.accept(String.format(java.util.Locale.ROOT, "AdvP %s seed %d: best target class %d fools "
                        + "%.1f %% of held-out training images (per class %s), trained in %.0f s", cell.id(), seed,
                        t.target(), 100 * t.heldOutFoolRate(), java.util.Arrays.toString(java.util.Arrays.stream(
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
                float[] purified = defended.purifier().purify(s.create(java.util.Arrays.copyOf(adv, k * d),
                        new Shape(k, image.get(0), image.get(1), image.get(2))), seed).toFloatArray();
                System.arraycopy(purified, 0, grid, 2 * k * d, k * d);
            }
        }
        Path out = dir.resolve("examples").resolve(safe(cell.id()) + ".png");
        ImageFiles.writeGrid(out, grid, rows * k, (int) image.get(0), (int) image.get(1), (int) image.get(2), k);
    }
}
