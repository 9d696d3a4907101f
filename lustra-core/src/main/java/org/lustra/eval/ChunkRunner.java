package org.lustra.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import org.lustra.attack.Attack;
import org.lustra.attack.AttackModel;
import org.lustra.attack.DetectorView;
import org.lustra.attack.GradientCounts;
import org.lustra.attack.LogitRows;
import org.lustra.data.ImageFiles;
import org.lustra.data.ImageSet;
import org.lustra.defense.DefendedClassifier;
import org.lustra.defense.DetectingPurifier;
import org.lustra.defense.GradientMode;
import org.lustra.defense.Purifier;
import org.lustra.model.Classifier;
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
        Judged clean = predict(m, b.defended(), b.x(), b.image(), votes, b.seeds().clean(), false);
        int[][] cleanVotes = clean.votes();
        Judged last = null;
        WorstOf worst = new WorstOf(n, b.x().length / n, b.h() * b.w(), votes, routes.size() > 1);
        long forward = 0;
        GradientCounts gradients = GradientCounts.NONE;
        List<SampleRecord> perRoute = new ArrayList<>();
        long t0 = System.nanoTime();
        double earlierMs = 0; // what the routes taken from checkpoints cost when they ran
        for (int ri = 0; ri < routes.size(); ri++) {
            Route route = routes.get(ri);
            long routeStart = System.nanoTime();
            String tag = routes.size() > 1 ? ":" + route.tag() : "";
            // each route of a worst-of cell draws its purifications from its own stream (consecutive seeds overlapped:
            // route r's k-th call reused route r+1's (k-1)-th) and, for AdvP, trains its own patch (through this
            // route's target, on the patch's own streams)
            long purification = routes.size() > 1
                    ? Seed.of(b.seeds().attackPurification()).child("route:" + route.tag()).value()
                    : b.seeds().attackPurification();
            Attack.Outcome o;
            // a finished route of a worst-of cell is kept until its chunk is journaled (RouteCheckpoints)
            boolean checkpointed = checkpoints != null && routes.size() > 1 && !transferable(route);
            Optional<RouteCheckpoints.Saved> saved = checkpointed ? checkpoints.load(b.seed(), b.cell().id(),
                    b.chunk(), route.tag(), n, b.x().length, n * b.h() * b.w()) : Optional.empty();
            double attackMs;
            if (saved.isPresent()) {
                o = saved.get().outcome();
                attackMs = saved.get().msPerImage() * n;
                earlierMs += attackMs;
                log.accept("Chunk " + b.chunk() + " of " + b.cell().id() + ": route " + route.tag()
                        + " finished before the last stop; its saved images are judged again");
                logWarnings(o, b);
            } else {
                o = attackOnce(route, b, m, purification, routes.size() > 1);
                attackMs = (System.nanoTime() - routeStart) / 1e6;
                if (checkpointed) {
                    checkpoints.save(b.seed(), b.cell().id(), b.chunk(), route.tag(), n, o, attackMs / n);
                }
            }
            float[] a = o.adversarial().clone();
            boolean[] bad = Scoring.replaceNonFinite(a, b.x(), n);
            last = predict(m, b.defended(), a, b.image(), votes, b.seeds().judge(tag), o.masks() != null);
            int[][] v = last.votes();
            // a saved route's time is its attack's then and its judging now
            double routeMs = (System.nanoTime() - routeStart) / 1e6 + (saved.isPresent() ? attackMs : 0);
            forward += o.forwardImages();
            gradients = gradients.plus(o.gradients());
            if (routes.size() > 1) {
                perRoute.addAll(Scoring.records(new Scoring.Chunk(b.seed(), ThreatModels.routeCellId(b.cell(), route),
                        b.chunk(), b.from(), b.labels(), b.x(), a, o.masks(), bad, cleanVotes, v, b.c(), b.h(), b.w(),
                        routeMs / n, o.forwardImages() / n, o.gradients(), null,
                        clean.purified(), last.purified(), last.replaced())));
            }
            worst.offer(route, b.labels(), a, o.masks(), bad, v);
        }
        // A worst-of cell picks each image's route by its judging votes; scoring the pick with those same votes
        // would count the luckiest draw (a max over noisy estimates). The chosen inputs are judged again, afresh.
        // (one route: its judging evaluation is the final one, and it scored every image)
        Judged judged = routes.size() > 1
                ? predict(m, b.defended(), worst.adversarial, b.image(), votes, b.seeds().judge(":worst-of"),
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

    /** Runs the route's attack (its own, or the cell's) on the chunk; a non-adaptive paired route only once per run. */
    private Attack.Outcome attackOnce(Route route, Batch b, NDManager m, long purification, boolean worstOf) {
        // a route may name its own attack (evade-lavan against a detector); the others run the cell's attack
        Attack attack = route.attack() != null && !route.attack().equals(b.cell().attack().attack())
                ? runner.substitute(b.cell(), route.attack())
                : runner.attack(b.cell(), patches.source(b.seed(), b.cell(), worstOf ? "@" + route.tag() : "",
                        stream -> model(route, b, m, stream)));
        return transferable(route) ? transfer(route, attack, b, m, purification)
                : attackVia(route, attack, b, m, purification);
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
        Attack.Outcome o = attack.run(model(route, b, m, purificationSeed), b.x(), b.labels(), seed);
        logWarnings(o, b);
        return o;
    }

    private void logWarnings(Attack.Outcome o, Batch b) {
        o.warnings().forEach(w -> log.accept(w.source() + " warning [" + b.cell().id() + " chunk " + b.chunk()
                + "]: " + w.message()));
    }

    /**
     * What an attack through {@code route} sees: the defended model (or the bare classifier), its k-th purification
     * drawing seed {@code purificationSeed} + k. A fresh model, with counters of its own, per call.
     */
    private static AttackModel model(Route route, Batch b, NDManager m, long purificationSeed) {
        AtomicLong callSeed = new AtomicLong(purificationSeed);
        DefendedClassifier defended = b.defended();
        Classifier cls = defended.classifier();
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
        // non-adaptive cells against a randomised defence (and, with "fullLength", every non-adaptive and undefended
        // cell) also run full length; their target, the classifier, is deterministic, so one vote confirms
        AttackModel model = new AttackModel(target, oracle, m, b.image(), route.eot(), route.fullLength(),
                route.attackVotes());
        if (route.adaptive() && defended.purifier() instanceof DetectingPurifier dp) {
            // a white-box attacker knows the detector: detector-aware attacks may ask for it (others never do)
            model = model.withDetector(new DetectorView() {
                @Override
                public NDArray classifierLogits(NDArray rows) {
                    return defended.model().logits(rows);
                }

                @Override
                public NDArray softDetection(NDArray rows) {
                    return dp.softDetection(rows, callSeed.incrementAndGet());
                }

                @Override
                public NDArray detection(NDArray rows) {
                    return dp.detection(rows, callSeed.incrementAndGet());
                }
            });
        }
        return model;
    }

    /**
     * {@code votes} independent predictions of the defended model, and the images the first of them classified after
     * purification (null for the undefended classifier) and, when asked for, the region it replaced ({@code replaced},
     * N·H·W; null unless the purifier masks).
     */
    private record Judged(int[][] votes, float[] purified, float[] replaced) {}

    /**
     * Predictions of the defended model, {@code votes} independent evaluations (one for deterministic defences);
     * {@code withMask}: the first also reports the region a masking purifier replaced (patch cells).
     */
    private static Judged predict(NDManager m, DefendedClassifier defended, float[] x, Shape image, int votes,
            long seed, boolean withMask) {
        int n = x.length / Math.toIntExact(image.size());
        int[][] out = new int[votes][n];
        float[] purified = null;
        float[] replaced = null;
        for (int v = 0; v < votes; v++) {
            try (NDManager s = m.newSubManager()) {
                NDArray xa = s.create(x, new Shape(n, image.get(0), image.get(1), image.get(2)));
                // the forward of logits(x, BPDA, seed) to the bit, so votes are what they were before fidelity existed
                DefendedClassifier.Evaluation e = v == 0 && withMask ? defended.evaluateWithMask(xa, seed + v)
                        : defended.evaluate(xa, seed + v);
                if (v == 0 && !defended.undefended()) {
                    purified = e.purified().toFloatArray();
                }
                if (e.mask() != null) {
                    replaced = e.mask().toFloatArray();
                }
                float[] z = e.logits().toFloatArray();
                int k = z.length / n;
                for (int i = 0; i < n; i++) {
                    // a row with a non-finite logit is no class at all (-1: never correct, never a chosen class);
                    // argMax would call it class 0
                    boolean finite = true;
                    for (int j = i * k; j < (i + 1) * k; j++) {
                        finite &= Float.isFinite(z[j]);
                    }
                    out[v][i] = finite ? LogitRows.argMax(z, i, k) : -1;
                }
            }
        }
        return new Judged(out, purified, replaced);
    }

    /** Per image, the outcome of the route that fooled it worst ({@link Scoring#badness}); one route is kept whole. */
    private static final class WorstOf {
        final float[] adversarial;
        float[] masks;
        final boolean[] nonFinite;
        final int[][] votes;
        /** The route chosen per image, for worst-of cells (else null). */
        final String[] routes;
        private final int[] worst;
        private final int n;
        private final int d;
        private final int plane;

        WorstOf(int n, int d, int plane, int votes, boolean severalRoutes) {
            this.n = n;
            this.d = d;
            this.plane = plane;
            adversarial = new float[n * d];
            nonFinite = new boolean[n];
            this.votes = new int[votes][n];
            routes = severalRoutes ? new String[n] : null;
            worst = new int[n];
            Arrays.fill(worst, -1);
        }

        void offer(Route route, int[] labels, float[] adv, float[] advMasks, boolean[] bad, int[][] v) {
            for (int i = 0; i < n; i++) {
                int b = Scoring.badness(v, i, labels[i]);
                if (b <= worst[i]) {
                    continue;
                }
                worst[i] = b;
                System.arraycopy(adv, i * d, adversarial, i * d, d);
                nonFinite[i] = bad[i];
                for (int k = 0; k < votes.length; k++) {
                    votes[k][i] = v[k][i];
                }
                if (advMasks != null) {
                    masks = masks == null ? new float[n * plane] : masks;
                    System.arraycopy(advMasks, i * plane, masks, i * plane, plane);
                }
                if (routes != null) {
                    routes[i] = route.tag();
                }
            }
        }
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
