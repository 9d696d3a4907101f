package org.lustra.defense.hetero;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.List;
import org.lustra.diffusion.Captions;
import org.lustra.diffusion.DiffusionConfig;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.model.Architecture;
import org.lustra.model.NetClassifier;

/** Tiny random-weight models for the hetero tests: 1×8×8 images, T = 1000 (the standard schedule). */
final class TinyHetero {
    static final DiffusionConfig DIFFUSION = new DiffusionConfig(1, 8, new int[] {8, 16}, 2, 4,
            new Captions(List.of("alpha", "beta")).vocabulary(), 12, 8, 1, 1000, 1e-4, 0.02);

    private TinyHetero() {}

    /**
     * A tiny random UNet whose zero-initialised layers (the output convolution starts at "predict zero noise") get
     * small random weights too: with ε̂ ≡ 0 the chain is linear in x and a gradient test could not see the UNet.
     */
    static DiffusionModel model(NDManager base) {
        DiffusionModel model = DiffusionModel.create(DIFFUSION, base.newSubManager(), 2);
        Engine.getInstance().setRandomSeed(7);
        for (Pair<String, Parameter> p : model.net().getParameters()) {
            NDArray a = p.getValue().getArray();
            if (a.getShape().dimension() > 1 && a.abs().max().getFloat() == 0f) {
                a.addi(a.getManager().randomNormal(0f, 0.05f, a.getShape(), DataType.FLOAT32));
            }
        }
        return model;
    }

    /** A tiny two-stage ResNet classifier (stages 4×8×8 and 8×4×4), owning a sub-manager of {@code base}. */
    static NetClassifier resnet(NDManager base, long seed) {
        NDManager m = base.newSubManager();
        Architecture a = Architecture.resnet(1, 8, 3, new int[] {4, 8}, 1);
        return new NetClassifier("tiny-resnet", a.initialize(m, seed), m, List.of("a", "b", "c"));
    }

    /** A tiny ViT (patch 4: a 2×2 token grid, two blocks). */
    static NetClassifier vit(NDManager base, long seed) {
        NDManager m = base.newSubManager();
        Architecture a = Architecture.vit(1, 8, 3, 4, 8, 2, 2, 16, 4);
        return new NetClassifier("tiny-vit", a.initialize(m, seed), m, List.of("a", "b", "c"));
    }

    /** A (1, 1, 8, 8) mask: 1 on the upper-left 4×4 quarter plus a diagonal, 0 elsewhere. */
    static NDArray mixedMask(NDManager m, int n) {
        float[] v = new float[n * 64];
        for (int i = 0; i < n; i++) {
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 8; x++) {
                    v[i * 64 + y * 8 + x] = (y < 4 && x < 4) || x == y ? 1f : 0f;
                }
            }
        }
        return m.create(v, new Shape(n, 1, 8, 8));
    }

    /** Base options for the tiny chain: t_l = 0.02 (t = 20), t_s = 0.01 (t = 10), DDIM η = 0 on stride 2. */
    static HeteroOptions.Builder small() {
        return HeteroOptions.builder().optNoiseLevels(0.02, 0.01).optSolver(HeteroOptions.Solver.DDIM).optStride(2)
                .optEta(0).optResampling(HeteroOptions.Resampling.NONE, 0);
    }
}
