package org.lustra.attack;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.function.Function;
import org.lustra.nn.ConvolutionCheck;
import org.lustra.nn.Scalars;

/**
 * What an attack sees of its target: a map from images (N, C, H, W) in [0, 1] to logits (N, K), differentiable in
 * the way the caller chose (the gradient mode is the caller's to record), plus the number of EOT copies. With EOT,
 * the N images are tiled into E·N rows evaluated as <b>one batch</b> and the loss is averaged over the copies
 * (Athalye et al., 2018), so a randomised target must draw independent randomness per row. Attacks keep their state
 * in Java arrays; every engine call here runs in a scratch sub-manager that is closed before returning.
 *
 * <p>Non-finite values are errors, never results: a gradient row with a NaN or ±∞ is replaced by zeros (no attack
 * takes a step on it) and counted, as are all-zero gradient rows (a cut graph or a masked gradient); a row whose
 * logits are not finite is never "misclassified" ({@link LogitRows#misclassified}); a non-finite loss ranks below every
 * finite one. For a <em>randomised</em> target a single forward pass proves nothing (the next purification may
 * undo it): {@link #confirmFooled} asks K fresh evaluations and takes the majority, and attacks do not stop at a
 * first success (DiffBreak, DiffHammer).
 */
public final class AttackModel {

    /** The per-sample objectives the attacks maximise (Croce and Hein, 2020, for the DLR family). */
    public enum Loss {
        /** Cross-entropy of the true class. */
        CE,
        /** Difference of logits ratio: −(z_y − max_{i≠y} z_i) / (z_π1 − z_π3). */
        DLR,
        /** Targeted DLR: −(z_y − z_t) / (z_π1 − (z_π3 + z_π4) / 2). */
        DLR_TARGETED,
        /** Logit of the target minus logit of the true class (FAB's linearised boundary). */
        TARGET_MARGIN,
        /** The CW margin max_{j≠y} z_j − z_y: positive once misclassified, unbounded both ways. */
        MARGIN
    }

    /** Per-sample loss (mean over EOT copies), gradient of the summed loss, and mean logits over copies. */
    public record Evaluation(float[] loss, float[] gradient, float[] logits, int classes) {}

    /**
     * A target that computes its own loss gradient (e.g. by recomputing a purification chain step by step) instead
     * of exposing one autograd graph. Given rows (R, C, H, W) and a map from logits (R, K) to per-row losses, returns
     * {loss (R), logits (R, K), gradient of the summed loss (R, C, H, W)}, owned by the rows' manager.
     */
    @FunctionalInterface
    public interface GradientOracle {
        NDArray[] lossAndGradient(NDArray rows, Function<NDArray, NDArray> rowLoss);
    }

    private final Function<NDArray, NDArray> logits;
    private final GradientOracle oracle;
    private final NDManager parent;
    private final Shape imageShape;
    private final int eot;
    private final boolean randomized;
    private final int votes;
    private final DetectorView detector;
    private long forwardImages;
    private long gradientRows;
    private long nonFiniteGradientRows;
    private long zeroGradientRows;

    /**
     * @param logits the target; owned results may live in the input's manager
     * @param parent manager under which scratch managers are opened
     * @param imageShape (C, H, W)
     * @param eot EOT copies (1 for deterministic targets)
     */
    public AttackModel(Function<NDArray, NDArray> logits, NDManager parent, Shape imageShape, int eot) {
        this(logits, null, parent, imageShape, eot);
    }

    /** As above, with gradients (and the losses and logits that go with them) from {@code oracle}. */
    public AttackModel(Function<NDArray, NDArray> logits, GradientOracle oracle, NDManager parent, Shape imageShape,
            int eot) {
        this(logits, oracle, parent, imageShape, eot, false, 1);
    }

    /**
     * @param randomized whether the target draws fresh randomness per call (then attacks run to full length and
     *     successes are confirmed by {@code votes} fresh evaluations)
     * @param votes K, the evaluations that confirm a success against a randomised target (1 for deterministic)
     */
    public AttackModel(Function<NDArray, NDArray> logits, GradientOracle oracle, NDManager parent, Shape imageShape,
            int eot, boolean randomized, int votes) {
        this(logits, oracle, parent, imageShape, eot, randomized, votes, null);
    }

    private AttackModel(Function<NDArray, NDArray> logits, GradientOracle oracle, NDManager parent, Shape imageShape,
            int eot, boolean randomized, int votes, DetectorView detector) {
        this.detector = detector;
        // every attack trusts input gradients: refuse to start where the engine's convolution backward is wrong
        ConvolutionCheck.require();
        if (votes < 1 || (!randomized && votes != 1)) {
            throw new IllegalArgumentException("Invalid confirmation votes: " + votes + " (1 for a deterministic "
                    + "target, ≥ 1 for a randomised one)");
        }
        this.randomized = randomized;
        this.votes = votes;
        if (eot < 1) {
            throw new IllegalArgumentException("Invalid EOT copies: " + eot + " (need ≥ 1)");
        }
        if (imageShape.dimension() != 3) {
            throw new IllegalArgumentException("Image shape must be (C, H, W), got " + imageShape);
        }
        this.logits = logits;
        this.oracle = oracle;
        this.parent = parent;
        this.imageShape = imageShape;
        this.eot = eot;
    }

    public int eot() {
        return eot;
    }

    /** The same target with {@code copies} EOT copies (counters start at zero). */
    public AttackModel withEot(int copies) {
        return new AttackModel(logits, oracle, parent, imageShape, copies, randomized, votes, detector);
    }

    /**
     * The same target with its defence's detector opened to detector-aware attacks ({@link EvadeLaVan}); counters start
     * at zero. Attacks that do not ask for it behave exactly as before.
     */
    public AttackModel withDetector(DetectorView view) {
        return new AttackModel(logits, oracle, parent, imageShape, eot, randomized, votes, view);
    }

    /** The defence's detector, or null when the target has none (or the attacker is not shown it). */
    public DetectorView detector() {
        return detector;
    }

    /** The manager under which scratch managers are opened. */
    NDManager parent() {
        return parent;
    }

    /** Counts forward images computed outside {@link #evaluate} (e.g. a detector-aware objective). */
    void countForwards(long images) {
        forwardImages += images;
    }

    /** Adds another model's counters to this one's (e.g. a helper attack run on the bare classifier). */
    void absorb(AttackModel other) {
        forwardImages += other.forwardImages;
        gradientRows += other.gradientRows;
        nonFiniteGradientRows += other.nonFiniteGradientRows;
        zeroGradientRows += other.zeroGradientRows;
    }

    /** Whether the target is randomised (see the class comment). */
    public boolean randomized() {
        return randomized;
    }

    /** K, the fresh evaluations {@link #confirmFooled} takes. */
    public int votes() {
        return votes;
    }

    /** Gradient rows computed so far (one per image per {@link #evaluate} call). */
    public long gradientRows() {
        return gradientRows;
    }

    /** Gradient rows that held a NaN or ±∞ and were replaced by zeros. */
    public long nonFiniteGradientRows() {
        return nonFiniteGradientRows;
    }

    /** Gradient rows that were exactly zero (a cut graph, a saturated or masked gradient). */
    public long zeroGradientRows() {
        return zeroGradientRows;
    }

    /**
     * Which of the n images {@code x} the target misclassifies: one forward pass for a deterministic target; for a
     * randomised one {@link #votes} fresh evaluations, fooled when their majority answer ({@link Votes#majority}, the
     * harness's "majority of K" rule, a tie against the true class counts as fooled) is wrong. A row with a non-finite
     * logit answers no class (-1), a wrong answer, exactly as the harness's judging counts it: a defended model that
     * returns NaN has not classified the input (the inputs themselves are finite here; non-finite inputs are replaced
     * and flagged before judging).
     */
    public boolean[] confirmFooled(float[] x, int n, int[] labels) {
        int[][] answers = new int[n][votes];
        for (int v = 0; v < votes; v++) {
            float[] z = logits(x, n);
            int k = z.length / n;
            for (int i = 0; i < n; i++) {
                answers[i][v] = LogitRows.finiteRow(z, i, k) ? LogitRows.argMax(z, i, k) : -1;
            }
        }
        boolean[] out = new boolean[n];
        for (int i = 0; i < n; i++) {
            out[i] = Votes.majority(answers[i], labels[i]) != labels[i];
        }
        return out;
    }

    /** Values per image. */
    public int imageSize() {
        return Math.toIntExact(imageShape.size());
    }

    public Shape imageShape() {
        return imageShape;
    }

    /** Images passed through the target so far (EOT copies counted), for queries and timing. */
    public long forwardImages() {
        return forwardImages;
    }

    private Shape batchShape(int n) {
        return new Shape(n, imageShape.get(0), imageShape.get(1), imageShape.get(2));
    }

    /** Logits of one plain forward per image (no EOT), flat (N·K). */
    public float[] logits(float[] x, int n) {
        try (NDManager m = parent.newSubManager()) {
            forwardImages += n;
            return logits.apply(m.create(x, batchShape(n))).toFloatArray();
        }
    }

    /**
     * Loss and its input gradient. {@code targets} is used by the targeted losses only (may be null otherwise).
     */
    public Evaluation evaluate(float[] x, int n, Loss loss, int[] labels, int[] targets) {
        if (oracle != null) {
            return evaluateWithOracle(x, n, loss, labels, targets);
        }
        try (NDManager m = parent.newSubManager()) {
            NDArray xa = m.create(x, batchShape(n));
            xa.setRequiresGradient(true);
            float[] perSample;
            float[] meanLogits;
            int k;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray in = eot == 1 ? xa : xa.tile(new long[] {eot, 1, 1, 1});
                NDArray z = logits.apply(in);
                forwardImages += (long) n * eot;
                k = Math.toIntExact(z.getShape().get(1));
                NDArray l = Losses.perSampleLoss(m, z, loss, tile(labels, eot),
                        targets == null ? null : tile(targets, eot), k);
                NDArray total = Scalars.div(l.sum(), eot);
                NDArray byCopy = l.reshape(eot, n);
                perSample = (eot == 1 ? byCopy.get(0) : byCopy.mean(new int[] {0})).toFloatArray();
                NDArray zc = z.reshape(eot, n, k);
                meanLogits = (eot == 1 ? zc.get(0) : zc.mean(new int[] {0})).toFloatArray();
                try {
                    gc.backward(total);
                } catch (ai.djl.engine.EngineException e) {
                    // The target cut the graph (e.g. a non-differentiable defence attacked without BPDA). Report a zero
                    // gradient rather than fail, so that AutoAttack's zero-gradient check can say so. (PtNDArray's
                    // hasGradient() is false for every non-leaf array, so it cannot be asked beforehand.)
                    if (String.valueOf(e.getMessage()).contains("does not require grad")) {
                        return sanitized(new Evaluation(perSample, new float[x.length], meanLogits, k), n);
                    }
                    throw e;
                }
            }
            NDArray g = xa.getGradient();
            g.attach(m);
            return sanitized(new Evaluation(perSample, g.toFloatArray(), meanLogits, k), n);
        }
    }

    /** Zeroes and counts non-finite gradient rows, counts zero rows, ranks non-finite losses lowest. */
    Evaluation sanitized(Evaluation ev, int n) {
        int d = ev.gradient().length / n;
        float[] g = ev.gradient();
        float[] loss = ev.loss();
        for (int i = 0; i < n; i++) {
            boolean finite = true;
            boolean zero = true;
            for (int j = i * d; j < (i + 1) * d; j++) {
                float v = g[j];
                if (!Float.isFinite(v)) {
                    finite = false;
                    break;
                }
                zero &= v == 0f;
            }
            gradientRows++;
            if (!finite) {
                nonFiniteGradientRows++;
                java.util.Arrays.fill(g, i * d, (i + 1) * d, 0f);
            } else if (zero) {
                zeroGradientRows++;
            }
            if (!Float.isFinite(loss[i])) {
                loss[i] = Float.NEGATIVE_INFINITY;
            }
        }
        return ev;
    }

    private Evaluation evaluateWithOracle(float[] x, int n, Loss loss, int[] labels, int[] targets) {
        try (NDManager m = parent.newSubManager()) {
            NDArray xa = m.create(x, batchShape(n));
            NDArray in = eot == 1 ? xa : xa.tile(new long[] {eot, 1, 1, 1});
            int[] lt = tile(labels, eot);
            int[] tt = targets == null ? null : tile(targets, eot);
            NDArray[] r = oracle.lossAndGradient(in, z -> Losses.perSampleLoss(z.getManager(), z, loss, lt, tt,
                    Math.toIntExact(z.getShape().get(1))));
            forwardImages += (long) n * eot;
            int k = Math.toIntExact(r[1].getShape().get(1));
            NDArray l = r[0].reshape(eot, n).mean(new int[] {0});
            NDArray z = r[1].reshape(eot, n, k).mean(new int[] {0});
            NDArray g = r[2].reshape(eot, (long) n * imageSize()).sum(new int[] {0}).div(eot);
            return sanitized(new Evaluation(l.toFloatArray(), g.toFloatArray(), z.toFloatArray(), k), n);
        }
    }

    private static int[] tile(int[] a, int times) {
        int[] out = new int[a.length * times];
        for (int e = 0; e < times; e++) {
            System.arraycopy(a, 0, out, e * a.length, a.length);
        }
        return out;
    }
}
