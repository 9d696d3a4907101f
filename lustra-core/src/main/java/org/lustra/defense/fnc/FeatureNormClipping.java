package org.lustra.defense.fnc;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.lustra.defense.FeatureDefense;
import org.lustra.defense.GradientMode;
import org.lustra.model.Classifier;
import org.lustra.model.NetClassifier;
import org.lustra.util.LustraException;
import org.lustra.nn.ClassifierNet;
import org.lustra.nn.Scalars;

/**
 * Feature norm clipping (C. Yu et al., "Defending against Universal Adversarial Patches by Clipping Feature Norms",
 * ICCV 2021). A universal patch wins by producing deep feature vectors of very large norm at its location, which then
 * dominate global average pooling; clipping each location's channel vector to a norm τ caps that influence:
 * f(i, j) ← f(i, j) · τ / max(‖f(i, j)‖₂, τ). Vectors under the threshold pass unchanged; the layer has no parameters
 * and is differentiable, so the defended classifier is attacked with its exact gradient.
 *
 * <p>Here the clipping runs after every stage of Lustra's networks ({@link ClassifierNet.StageHook}): after each
 * residual stage of {@code classifier-resnet} (the last one feeds the average pooling, the paper's main site), after
 * each conv-pool stage of {@code classifier-cnn2}, and on the token vectors after each block of {@code classifier-vit}.
 * The transformer is expected to gain little (DIFFender, seed 000 §4.2): its pre-norm blocks and its final LayerNorm
 * rescale every token before it is read or pooled, so a large token norm is not what carries the patch there.
 *
 * <p>τ per stage is either absolute or relative to the image's own mean location norm at that stage. The thresholds
 * are to be chosen on {@code data/validation} from {@link NormStatistics}; the placeholder is relative 2 (clip what is
 * more than twice the image's mean norm), which needs no data.
 */
public final class FeatureNormClipping implements FeatureDefense {
    /** Floor under the squared norm, so that ‖f‖ at an all-zero location (dead ReLUs) has a finite derivative. */
    private static final float NORM_EPS = 1e-12f;

    /** How a stage's threshold is read. */
    public enum Mode {
        /** τ is the given norm. */
        ABSOLUTE,
        /** τ is the given factor times the mean location norm of the same image at that stage. */
        RELATIVE
    }

    /**
     * @param mode how the thresholds are read
     * @param thresholds one per stage (shallowest first), or one for every stage; +∞ leaves a stage unclipped
     */
    public record Options(Mode mode, double[] thresholds) {
        public Options {
            if (mode == null || thresholds == null || thresholds.length == 0) {
                throw new IllegalArgumentException("Invalid FNC options: a mode and at least one threshold are needed");
            }
            thresholds = thresholds.clone();
            for (double t : thresholds) {
                if (!(t > 0)) {
                    throw new IllegalArgumentException("Invalid FNC threshold: " + t + " (> 0, or inf for no clipping)");
                }
            }
        }

        /** The placeholder until thresholds are chosen on validation data: relative 2 at every stage. */
        public static Options placeholder() {
            return relative(2.0);
        }

        public static Options absolute(double... thresholds) {
            return new Options(Mode.ABSOLUTE, thresholds);
        }

        public static Options relative(double... factors) {
            return new Options(Mode.RELATIVE, factors);
        }

        @Override
        public double[] thresholds() {
            return thresholds.clone();
        }

        /** The threshold of {@code stage} (0-based). */
        public double threshold(int stage) {
            return thresholds.length == 1 ? thresholds[0] : thresholds[stage];
        }

        /** The spec text of these options: {@code rel2}, {@code abs3.5,7,inf}. */
        public String text() {
            return (mode == Mode.RELATIVE ? "rel" : "abs") + Arrays.stream(thresholds)
                    .mapToObj(t -> t == Double.POSITIVE_INFINITY ? "inf" : trim(t)).collect(Collectors.joining(","));
        }

        /** Parses {@code relX[,Y…]} or {@code absX[,Y…]} (a value may be {@code inf}). */
        public static Options parse(String text) {
            boolean rel = text.startsWith("rel");
            if (!rel && !text.startsWith("abs")) {
                throw new IllegalArgumentException("unknown FNC option " + text + " (relX or absX, comma-separated "
                        + "per stage)");
            }
            double[] t = Arrays.stream(text.substring(3).split(",", -1))
                    .mapToDouble(v -> v.equals("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(v)).toArray();
            return new Options(rel ? Mode.RELATIVE : Mode.ABSOLUTE, t);
        }

        private static String trim(double v) {
            return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) : String.valueOf(v);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Options other && mode == other.mode && Arrays.equals(thresholds, other.thresholds);
        }

        @Override
        public int hashCode() {
            return mode.hashCode() * 31 + Arrays.hashCode(thresholds);
        }

        @Override
        public String toString() {
            return text();
        }
    }

    private final Options options;

    public FeatureNormClipping(Options options) {
        this.options = options;
    }

    public Options options() {
        return options;
    }

    @Override
    public String name() {
        return "fnc(" + options.text() + ")";
    }

    /** EXACT (the clipped network's own gradient); BPDA through the identity input stage is the same gradient. */
    @Override
    public Set<GradientMode> gradientModes() {
        return EnumSet.of(GradientMode.EXACT, GradientMode.BPDA);
    }

    @Override
    public boolean randomized() {
        return false;
    }

    /** The identity: the defence is inside the classifier ({@link #defend}). Returns {@code x} itself. */
    @Override
    public NDArray purify(NDArray x, long seed) {
        return x;
    }

    /**
     * {@code classifier} with its stages clipped. It must be one of Lustra's networks ({@link NetClassifier}), whose
     * stages can be re-run with a hook; the result shares its weights and does not close them.
     */
    @Override
    public Classifier defend(Classifier classifier) {
        if (!(classifier instanceof NetClassifier nc)) {
            throw new LustraException("Feature norm clipping (" + name() + ") clips the classifier's inner stages, "
                    + "which only Lustra's own networks expose and " + classifier.name() + " does not; protect it "
                    + "with a defence that reads only the image, e.g. diffpure, diffender or jpeg:75.");
        }
        int stages = nc.net().stageCount();
        if (options.thresholds.length != 1 && options.thresholds.length != stages) {
            throw new IllegalArgumentException("FNC has " + options.thresholds.length + " thresholds but "
                    + classifier.name() + " has " + stages + " stages (give one, or one per stage)");
        }
        return new Clipped(nc, this);
    }

    /** One stage's activation (N, C, H, W) clipped per location; owned by its manager. */
    NDArray clipStage(int stage, NDArray f) {
        double t = options.threshold(stage);
        if (t == Double.POSITIVE_INFINITY) {
            return f;
        }
        NDArray norm = locationNorms(f);
        NDArray tau = options.mode == Mode.ABSOLUTE ? f.getManager().full(new Shape(1, 1, 1, 1), (float) t)
                : Scalars.mul(norm.mean(new int[] {3}, true).mean(new int[] {2}, true), t); // one axis per mean in DJL
        // τ / max(‖f‖, τ): exactly 1 (and no gradient through the norm) where ‖f‖ ≤ τ
        return f.mul(tau.div(norm.maximum(tau)));
    }

    /**
     * f · τ / max(‖f‖, τ) per location of {@code f} (N, C, H, W) for a fixed τ ≥ 0; owned by {@code f}'s manager. The
     * clipping rule itself, for tests and for code that clips features outside a network.
     */
    public static NDArray clip(NDArray f, float tau) {
        NDArray t = f.getManager().full(new Shape(1, 1, 1, 1), tau);
        return f.mul(t.div(locationNorms(f).maximum(t)));
    }

    /** ‖f(i, j)‖₂ over channels, (N, 1, H, W); owned by {@code f}'s manager. */
    static NDArray locationNorms(NDArray f) {
        return f.square().sum(new int[] {1}, true).add(NORM_EPS).sqrt();
    }

    /** A Lustra network whose forward pass clips every stage. */
    private static final class Clipped implements Classifier {
        private final NetClassifier inner;
        private final FeatureNormClipping fnc;

        Clipped(NetClassifier inner, FeatureNormClipping fnc) {
            this.inner = inner;
            this.fnc = fnc;
        }

        @Override
        public String name() {
            return inner.name() + "+" + fnc.name();
        }

        @Override
        public int channels() {
            return inner.channels();
        }

        @Override
        public int size() {
            return inner.size();
        }

        @Override
        public List<String> classNames() {
            return inner.classNames();
        }

        @Override
        public Output forward(NDArray x) {
            NDList out = inner.net().forwardHooked(new ParameterStore(x.getManager(), false), x, false,
                    fnc::clipStage);
            return new Output(out.get(0), List.copyOf(out.subNDList(1)));
        }

        /** Does nothing: the weights belong to the wrapped classifier. */
        @Override
        public void close() {}
    }

    @Override
    public String toString() {
        return name();
    }
}
