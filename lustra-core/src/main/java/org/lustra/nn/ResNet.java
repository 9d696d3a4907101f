package org.lustra.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * A small pre-activation-free ResNet (He et al., 2016, basic blocks): 3×3 stem, one stage per entry of
 * {@code widths} (stages after the first halve the resolution), global average pooling, linear head. Each stage's
 * output is returned as a stage activation.
 */
public final class ResNet extends ClassifierNet {
    private final int[] widths;
    private final Block stem;
    private final Block stemNorm;
    private final List<List<BasicBlock>> stages = new ArrayList<>();
    private final Linear head;

    public ResNet(int channels, int size, int classes, int[] widths, int blocksPerStage) {
        super(channels, size, classes);
        if (widths.length == 0 || blocksPerStage < 1) {
            throw new IllegalArgumentException("Invalid ResNet: " + widths.length + " stages, " + blocksPerStage
                    + " blocks per stage");
        }
        this.widths = widths.clone();
        stem = addChildBlock("stem", Layers.conv(widths[0], 3, 1, false));
        stemNorm = addChildBlock("stem_bn", Layers.batchNorm());
        int in = widths[0];
        for (int s = 0; s < widths.length; s++) {
            List<BasicBlock> blocks = new ArrayList<>();
            for (int b = 0; b < blocksPerStage; b++) {
                int stride = s > 0 && b == 0 ? 2 : 1;
                blocks.add(addChildBlock("s" + s + "b" + b, new BasicBlock(in, widths[s], stride)));
                in = widths[s];
            }
            stages.add(blocks);
        }
        head = addChildBlock("head", Linear.builder().setUnits(classes).build());
    }

    @Override
    public int stageCount() {
        return widths.length;
    }

    @Override
    protected NDList forwardNet(ParameterStore ps, NDArray x, boolean training, StageHook hook) {
        NDArray h = Activation.relu(Layers.call(stemNorm, ps, Layers.call(stem, ps, x, training), training));
        NDList out = new NDList();
        out.add(null);
        for (int s = 0; s < stages.size(); s++) {
            for (BasicBlock b : stages.get(s)) {
                h = Layers.call(b, ps, h, training);
            }
            h = hook.apply(s, h);
            out.add(h);
        }
        // PtNDArray.mean accepts a single axis only: flatten the spatial axes first.
        NDArray pooled = h.reshape(h.getShape().get(0), h.getShape().get(1), -1).mean(new int[] {2});
        out.set(0, Layers.call(head, ps, pooled, training));
        return out;
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape s = inputShapes[0];
        stem.initialize(manager, dataType, s);
        s = stem.getOutputShapes(new Shape[] {s})[0];
        stemNorm.initialize(manager, dataType, s);
        for (List<BasicBlock> stage : stages) {
            for (BasicBlock b : stage) {
                b.initialize(manager, dataType, s);
                s = b.getOutputShapes(new Shape[] {s})[0];
            }
        }
        head.initialize(manager, dataType, new Shape(s.get(0), s.get(1)));
    }

    /** conv-BN-ReLU-conv-BN plus a (projected when the shape changes) shortcut, then ReLU. */
    static final class BasicBlock extends AbstractBlock {
        private final Block conv1;
        private final Block bn1;
        private final Block conv2;
        private final Block bn2;
        private final Block proj;
        private final Block projBn;
        private final int out;
        private final int stride;

        BasicBlock(int in, int out, int stride) {
            this.out = out;
            this.stride = stride;
            conv1 = addChildBlock("conv1", Layers.conv(out, 3, stride, false));
            bn1 = addChildBlock("bn1", Layers.batchNorm());
            conv2 = addChildBlock("conv2", Layers.conv(out, 3, 1, false));
            bn2 = addChildBlock("bn2", Layers.batchNorm());
            if (in != out || stride != 1) {
                proj = addChildBlock("proj", Layers.conv(out, 1, stride, false));
                projBn = addChildBlock("proj_bn", Layers.batchNorm());
            } else {
                proj = null;
                projBn = null;
            }
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            NDArray x = inputs.singletonOrThrow();
            NDArray h = Activation.relu(Layers.call(bn1, ps, Layers.call(conv1, ps, x, training), training));
            h = Layers.call(bn2, ps, Layers.call(conv2, ps, h, training), training);
            NDArray shortcut = proj == null ? x
                    : Layers.call(projBn, ps, Layers.call(proj, ps, x, training), training);
            return new NDList(Activation.relu(h.add(shortcut)));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            Shape s = inputShapes[0];
            return new Shape[] {new Shape(s.get(0), out, (s.get(2) + stride - 1) / stride,
                    (s.get(3) + stride - 1) / stride)};
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            Shape in = inputShapes[0];
            conv1.initialize(manager, dataType, in);
            Shape mid = conv1.getOutputShapes(new Shape[] {in})[0];
            bn1.initialize(manager, dataType, mid);
            conv2.initialize(manager, dataType, mid);
            bn2.initialize(manager, dataType, mid);
            if (proj != null) {
                proj.initialize(manager, dataType, in);
                projBn.initialize(manager, dataType, mid);
            }
        }
    }
}
