package org.lustra.eval;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.lustra.attack.Attack;
import org.lustra.attack.GradientCounts;
import org.lustra.data.ImageFiles;
import org.lustra.data.ImageSet;
import org.lustra.defense.DefendedClassifier;
import org.lustra.defense.Purifier;
import org.lustra.util.Files2;
import org.lustra.util.Progress;
import org.lustra.util.Seed;

/**
 * One chunk of one cell: attacks the chunk through every route of the cell, judges the final inputs with K fresh
 * evaluations of the defended model, keeps per image the route that fooled it worst (worst-of cells), and turns the
 * outcome into records ({@link Scoring}). The first chunk of the first run seed also writes the cell's example panel.
 */
final class ChunkRunner {
    private final ExperimentRunner runner;
    private final UniversalPatches patches;
    private final Consumer<String> log;
    /**
     * The non-adaptive attacks' outcomes of a paired run, per (run seed, attack, chunk, full length): in a paired run
     * every row of an attack draws the same streams and a non-adaptive attack sees only the bare classifier, so its
     * images do not depend on the row — computed once, judged by every defence (an 8-row column costs one attack).
     */
    private final Map<TransferKey, Attack.Outcome> transfer = new HashMap<>();
    private final RouteCheckpoints checkpoints;

    private record TransferKey(long seed, String attack, int chunk, boolean fullLength) {}

    /**
     * The clean images' votes of the chunks of one (run seed, defence): their stream depends on (seed, defence, chunk)
     * only ({@link RunSeeds}), so every cell of a defence gets the same votes, and a run with several attacks per
     * defence purified the same clean images once per attack (3 of every 8 purifications of a four-attack
     * non-adaptive table). Cells run defence by defence, so the map is emptied when the defence or seed changes.
     */
    private final Map<CleanKey, Judging.Judged> cleanJudged = new HashMap<>();
    /** The (run seed, defence) whose chunks {@link #cleanJudged} holds. */
    private CleanScope cleanScope;

    private record CleanScope(long seed, String defense) {}

    private record CleanKey(int chunk, int votes) {}

    ChunkRunner(ExperimentRunner runner, UniversalPatches patches, Consumer<String> log) {
        this.runner = runner;
        this.patches = patches;
        this.log = log;
        this.checkpoints = runner.routeCheckpoints();
    }

    /** The images of one chunk and what every route's attack needs. */
    private record Batch(long seed, Experiment.Cell cell, int chunk, int from, int n, Shape image, int[] labels,
            float[] x, DefendedClassifier defended, RunSeeds.ChunkSeeds seeds) {
        int c() {
            return (int) image.get(0);
        }

        int h() {
            return (int) image.get(1);
        }

        int w() {
            return (int) image.get(2);
        }

        /** The images at chunk positions {@code rows}, in that order (their records still name them by position). */
        Batch subset(int[] rows) {
            int d = Math.toIntExact(image.size());
            int[] l = new int[rows.length];
            float[] xs = new float[rows.length * d];
            for (int r = 0; r < rows.length; r++) {
                l[r] = labels[rows[r]];
                System.arraycopy(x, rows[r] * d, xs, r * d, d);
            }
            return new Batch(seed, cell, chunk, from, rows.length, image, l, xs, defended, seeds);
        }
    }

    List<SampleRecord> run(long seed, Experiment.Cell cell, int chunk) {
        Experiment exp = runner.experiment();
        int from = chunk * exp.batch();
        int to = Math.min(runner.images(), from + exp.batch());
        ImageSet set = runner.inputs().eval();
        Shape image = new Shape(set.channels(), set.height(), set.width());
        Purifier p = runner.purifier(cell);
        DefendedClassifier defended = new DefendedClassifier(p, runner.inputs().classifier());
        List<Route> routes = runner.routes(cell, p);
        try (NDManager m = NDManager.newBaseManager()) {
            Batch b = new Batch(seed, cell, chunk, from, to - from, image, Arrays.copyOfRange(set.labels(), from, to),
                    set.batch(m, from, to).toFloatArray(), defended, RunSeeds.ChunkSeeds.of(seed, cell, chunk,
                    exp.pairedRows()));
            Scored scored = attackAndScore(b, routes, m);
            if (chunk == 0 && seed == exp.seeds().get(0)) {
                writeExample(b, m, scored.adversarial());
            }
            return scored.records();
        }
    }

    /** A chunk's records (the cell's first, then each route's for worst-of cells) and the final inputs scored. */
    private record Scored(List<SampleRecord> records, float[] adversarial) {}

    private Scored attackAndScore(Batch b, List<Route> routes, NDManager m) {
        int n = b.n();
        int votes = routes.get(0).votes();
        Judging.Judged clean = judgeClean(b, votes, m);
        int[][] cleanVotes = clean.votes();
        Judging.Judged last = null;
        boolean severalRoutes = routes.size() > 1;
        boolean skipFooled = severalRoutes && runner.experiment().skipsFooledImages();
        WorstOf worst = new WorstOf(n, b.x().length / n, b.h() * b.w(), votes, severalRoutes);
        long forward = 0;
        GradientCounts gradients = GradientCounts.NONE;
        List<SampleRecord> perRoute = new ArrayList<>();
        long t0 = System.nanoTime();
        double earlierMs = 0; // what the routes taken from checkpoints cost when they ran
        for (int ri = 0; ri < routes.size(); ri++) {
            Route route = routes.get(ri);
            long routeStart = System.nanoTime();
            // "skipFooled": an image every vote already gets wrong cannot be fooled worse, so later routes leave it
            int[] open = skipFooled && ri > 0 ? worst.open() : null;
            if (open != null && open.length < n) {
                log.accept("Chunk " + b.chunk() + " of " + b.cell().id() + ": route " + route.tag() + " attacks "
                        + open.length + " of " + n + " images (the others are fooled on every vote already)");
            }
            int[] rows = open == null || open.length == n ? null : open; // null: the whole chunk
            Batch rb = rows == null ? b : b.subset(rows);
            RouteRun run = rows != null && rows.length == 0 ? RouteRun.NOTHING
                    : runRoute(route, rb, m, severalRoutes, rows);
            earlierMs += run.earlierMs();
            float[] a = run.outcome() == null ? new float[0] : run.outcome().adversarial().clone();
            boolean[] bad = run.outcome() == null ? new boolean[0] : Scoring.replaceNonFinite(a, rb.x(), rb.n());
            String tag = severalRoutes ? ":" + route.tag() : "";
            // judged on the route's own judging stream; in a smaller chunk an image takes the draws of its new row
            last = run.outcome() == null ? null : Judging.predict(m, b.defended(), a, b.image(), votes,
                    b.seeds().judge(tag), run.outcome().masks() != null);
            // a saved route's time is its attack's then and its judging now
            double routeMs = (System.nanoTime() - routeStart) / 1e6 + run.earlierMs();
            if (run.outcome() != null) {
                forward += run.outcome().forwardImages();
                gradients = gradients.plus(run.outcome().gradients());
            }
            if (severalRoutes) {
                perRoute.addAll(routeRecords(b, route, routeMs, run.outcome(), rows, a, bad, last, clean, worst));
            }
            if (last != null) {
                worst.offer(route, rows, b.labels(), a, run.outcome().masks(), bad, last);
            }
            if (severalRoutes) {
                logRouteEnd(b, route, ri, routes.size(), routeMs, worst);
            }
        }
        // A worst-of cell picks each image's route by its judging votes; scoring the pick with those same votes
        // would count the luckiest draw (a max over noisy estimates). The chosen inputs are judged again, afresh.
        // (one route: its judging evaluation is the final one, and it scored every image)
        Judging.Judged judged = severalRoutes
                ? Judging.predict(m, b.defended(), worst.adversarial, b.image(), votes, b.seeds().judge(":worst-of"),
                        worst.masks != null)
                : last;
        int[][] finalVotes = judged.votes();
        double ms = ((System.nanoTime() - t0) / 1e6 + earlierMs) / n;
        List<SampleRecord> out = Scoring.records(new Scoring.Chunk(b.seed(), b.cell().id(), b.chunk(), b.from(),
                b.labels(), b.x(), worst.adversarial, worst.masks, worst.nonFinite, cleanVotes, finalVotes, b.c(),
                b.h(), b.w(), ms, forward / n, gradients, worst.routes, clean.purified(), judged.purified(),
                judged.replaced()));
        // route lines first: a run killed mid-append then never leaves a finished cell chunk with unfinished routes
        perRoute.addAll(out);
        return new Scored(perRoute, worst.adversarial);
    }

    /** One route's attack on its images: its outcome (null when it had none to attack) and what a checkpoint cost. */
    private record RouteRun(Attack.Outcome outcome, double earlierMs) {
        static final RouteRun NOTHING = new RouteRun(null, 0);
    }

    /**
     * Attacks {@code rb} through {@code route}, or takes the route's saved outcome; {@code rows} (null: the whole
     * chunk) are the chunk positions of {@code rb}'s images, part of a saved route's name so that it is taken only for
     * the same images.
     */
    private RouteRun runRoute(Route route, Batch rb, NDManager m, boolean severalRoutes, int[] rows) {
        long routeStart = System.nanoTime();
        int n = rb.n();
        // each route of a worst-of cell draws its purifications from its own stream (consecutive seeds overlapped:
        // route r's k-th call reused route r+1's (k-1)-th) and, for AdvP, trains its own patch (through this
        // route's target, on the patch's own streams)
        long purification = severalRoutes
                ? Seed.of(rb.seeds().attackPurification()).child("route:" + route.tag()).value()
                : rb.seeds().attackPurification();
        // a finished route of a worst-of cell is kept until its chunk is journaled (RouteCheckpoints)
        boolean checkpointed = checkpoints != null && severalRoutes && !transferable(route);
        String savedTag = rows == null ? route.tag() : route.tag() + "-rows" + rowsKey(rows);
        Optional<RouteCheckpoints.Saved> saved = checkpointed ? checkpoints.load(rb.seed(), rb.cell().id(),
                rb.chunk(), savedTag, n, rb.x().length, n * rb.h() * rb.w()) : Optional.empty();
        if (saved.isPresent()) {
            log.accept("Chunk " + rb.chunk() + " of " + rb.cell().id() + ": route " + route.tag()
                    + " finished before the last stop; its saved images are judged again");
            logWarnings(saved.get().outcome(), rb);
            return new RouteRun(saved.get().outcome(), saved.get().msPerImage() * n);
        }
        Attack.Outcome o = attackOnce(route, rb, m, purification, severalRoutes);
        if (checkpointed) {
            checkpoints.save(rb.seed(), rb.cell().id(), rb.chunk(), savedTag, n, o,
                    (System.nanoTime() - routeStart) / 1e6 / n);
        }
        return new RouteRun(o, 0);
    }

    /**
     * The exact chunk positions a sub-chunk's saved route was made for, as part of its file name (64 bits of their
     * SHA-256: a 32-bit hash of small sorted sets collides, e.g. [0, 33] and [1, 2], and a saved route must never be
     * taken for other images).
     */
    private static String rowsKey(int[] rows) {
        return Files2.sha256(Arrays.toString(rows).getBytes(StandardCharsets.UTF_8)).substring(0, 16);
    }

    /**
     * A route cell's records, one per image of the chunk: the route's own for the images it attacked ({@code rows},
     * null: all), and for the images it skipped ("skipFooled") the worst of the routes before it, naming that route.
     */
    private List<SampleRecord> routeRecords(Batch b, Route route, double routeMs, Attack.Outcome o, int[] rows,
            float[] a, boolean[] bad, Judging.Judged last, Judging.Judged clean, WorstOf worst) {
        int n = b.n();
        String cellId = ThreatModels.routeCellId(b.cell(), route);
        GradientCounts grads = o == null ? GradientCounts.NONE : o.gradients();
        long forwardPerImage = o == null ? 0 : o.forwardImages() / n;
        if (rows == null) {
            return Scoring.records(new Scoring.Chunk(b.seed(), cellId, b.chunk(), b.from(), b.labels(), b.x(), a,
                    o.masks(), bad, clean.votes(), last.votes(), b.c(), b.h(), b.w(), routeMs / n, forwardPerImage,
                    grads, null, clean.purified(), last.purified(), last.replaced()));
        }
        // the images this route attacked get its own outcome, whatever the earlier routes did to them
        WorstOf carried = worst.copy();
        String[] carriedFrom = carried.routes.clone();
        if (last != null) {
            carried.put(route, rows, b.labels(), a, o.masks(), bad, last);
            for (int row : rows) {
                carriedFrom[row] = null;
            }
        }
        return Scoring.records(new Scoring.Chunk(b.seed(), cellId, b.chunk(), b.from(), b.labels(), b.x(),
                carried.adversarial, carried.masks, carried.nonFinite, clean.votes(), carried.votes, b.c(), b.h(),
                b.w(), routeMs / n, forwardPerImage, grads, carriedFrom, clean.purified(), carried.purified,
                carried.replaced));
    }

    /** Runs the route's attack (its own, or the cell's) on the chunk; a non-adaptive paired route only once per run. */
    private Attack.Outcome attackOnce(Route route, Batch b, NDManager m, long purification, boolean worstOf) {
        // a route may name its own attack (evade-lavan against a detector); the others run the cell's attack
        Attack attack = route.attack() != null && !route.attack().equals(b.cell().attack().attack())
                ? runner.substitute(b.cell(), route.attack())
                : runner.attack(b.cell(), patches.source(b.seed(), b.cell(), worstOf ? "@" + route.tag() : "",
                        stream -> RouteTargets.model(route, b.defended(), b.image(), m, stream)));
        return transferable(route) ? transfer(route, attack, b, m, purification)
                : attackVia(route, attack, b, m, purification);
    }

    /** The clean images' votes of the chunk, from {@link #cleanJudged} when another cell of its defence made them. */
    private Judging.Judged judgeClean(Batch b, int votes, NDManager m) {
        CleanScope scope = new CleanScope(b.seed(), b.cell().defense());
        if (!scope.equals(cleanScope)) {
            cleanJudged.clear();
            cleanScope = scope;
        }
        return cleanJudged.computeIfAbsent(new CleanKey(b.chunk(), votes), k -> Judging.predict(m, b.defended(), b.x(),
                b.image(), votes, b.seeds().clean(), false));
    }

    /** Whether the route's outcome is the same for every row of its attack (see {@link #transfer}). */
    private boolean transferable(Route route) {
        return runner.experiment().pairedRows() && !route.adaptive() && route.attack() == null && route.restart() == 0;
    }

    /**
     * A non-adaptive route's outcome from the run's memory, else computed and kept. Its counts (forwards, gradients)
     * stay those of making the images; the records' milliseconds are what this row spent.
     */
    private Attack.Outcome transfer(Route route, Attack attack, Batch b, NDManager m, long purificationSeed) {
        TransferKey key = new TransferKey(b.seed(), b.cell().attack().id(), b.chunk(), route.fullLength());
        Attack.Outcome known = transfer.get(key);
        if (known != null) {
            return new Attack.Outcome(known.adversarial().clone(), known.masks() == null ? null
                    : known.masks().clone(), known.forwardImages(), known.gradients(), known.warnings());
        }
        Attack.Outcome o = attackVia(route, attack, b, m, purificationSeed);
        transfer.put(key, new Attack.Outcome(o.adversarial().clone(), o.masks() == null ? null : o.masks().clone(),
                o.forwardImages(), o.gradients(), o.warnings()));
        return o;
    }

    /** Runs the cell's attack on the chunk through one route. */
    private Attack.Outcome attackVia(Route route, Attack attack, Batch b, NDManager m, long purificationSeed) {
        // a restart starts from its own attack seed (random starts, patch places and sizes differ)
        long seed = route.restart() == 0 ? b.seeds().attack()
                : Seed.of(b.seeds().attack()).child("restart:" + route.restart()).value();
        String where = "Chunk " + b.chunk() + " of " + b.cell().id() + " [route " + route.tag() + ", "
                + attack.name() + "]: ";
        Attack.Outcome o = attack.run(RouteTargets.model(route, b.defended(), b.image(), m, purificationSeed), b.x(), b.labels(), seed,
                line -> log.accept(where + line));
        logWarnings(o, b);
        return o;
    }

    /** A worst-of chunk runs for minutes to hours: each route's end is the heartbeat between the run's chunk lines. */
    private void logRouteEnd(Batch b, Route route, int index, int routes, double routeMs, WorstOf worst) {
        log.accept(String.format(Locale.ROOT, "Chunk %d of %s: route %s (%d of %d) done in %s; %d of %d images fooled "
                + "on every vote so far", b.chunk(), b.cell().id(), route.tag(), index + 1, routes,
                Progress.formatDuration(routeMs / 1000), b.n() - worst.open().length, b.n()));
    }

    private void logWarnings(Attack.Outcome o, Batch b) {
        o.warnings().forEach(w -> log.accept(w.source() + " warning [" + b.cell().id() + " chunk " + b.chunk()
                + "]: " + w.message()));
    }

    /** The cell's example panel: rows clean, adversarial and (defended cells) purified, for the first k ≤ 8 images. */
    private void writeExample(Batch b, NDManager m, float[] adv) {
        int k = Math.min(b.n(), 8);
        Shape image = b.image();
        int d = Math.toIntExact(image.size());
        boolean undefended = b.defended().undefended();
        int rows = undefended ? 2 : 3;
        float[] grid = new float[rows * k * d];
        System.arraycopy(b.x(), 0, grid, 0, k * d);
        System.arraycopy(adv, 0, grid, k * d, k * d);
        if (!undefended) {
            try (NDManager s = m.newSubManager()) {
                float[] purified = b.defended().purifier().purify(s.create(Arrays.copyOf(adv, k * d),
                        new Shape(k, image.get(0), image.get(1), image.get(2))), b.seeds().example()).toFloatArray();
                System.arraycopy(purified, 0, grid, 2 * k * d, k * d);
            }
        }
        ImageFiles.writeGrid(runner.directory().exampleFile(b.cell().id()), grid, rows * k, b.c(), b.h(), b.w(), k);
    }
}
