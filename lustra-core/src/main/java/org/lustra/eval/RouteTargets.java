package org.lustra.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.lustra.attack.AttackModel;
import org.lustra.attack.DetectorView;
import org.lustra.defense.DefendedClassifier;
import org.lustra.defense.DetectingPurifier;
import org.lustra.defense.GradientMode;
import org.lustra.model.Classifier;

/** The target an attack sees through one {@link Route}: the defended model's gradient mode, oracle and detector. */
final class RouteTargets {

    private RouteTargets() {}

    /**
     * What an attack through {@code route} sees: the defended model (or the bare classifier), its k-th purification
     * drawing seed {@code purificationSeed} + k. A fresh model, with counters of its own, per call.
     */
    static AttackModel model(Route route, DefendedClassifier defended, Shape image, NDManager m, long purificationSeed) {
        AtomicLong callSeed = new AtomicLong(purificationSeed);
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
        AttackModel model = new AttackModel(target, oracle, m, image, route.eot(), route.fullLength(),
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
}
