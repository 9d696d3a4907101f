package org.lustra.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain LeNet/VGG-style CNN — one 5×5 convolution per stage (BN, ReLU, 2×2 max pooling), no shortcuts, a dropout
 * MLP head — deliberately unlike {@link ResNet}, for transfer tests. Stage activations are taken after each pooling.
 */
public final class VggNet extends ClassifierNet {
    private final List<Block[]> stages = new ArrayList<>();
    private final Linear fc1;
    private final Dropout dropout;
    private final Linear fc2;

    public VggNet(int channels, int size, int classes, int[] widths, int hidden) {
        super(channels, size, classes);
        for (int s = 0; s < widths.length; s++) {
            stages.add(new Block[] {
                addChildBlock("s" + s + "conv", Layers.conv(widths[s], 5, 1, false)),
                addChildBlock("s" + s + "bn", Layers.batchNorm())
            });
        }
        fc1 = addChildBlock("fc1", Linear.builder().setUnits(hidden).build());
        dropout = addChildBlock("dropout", Dropout.builder().optRate(0.3f).build());
        fc2 = addChildBlock("fc2", Linear.builder().setUnits(classes).build());
    }

    @Override
    public int stageCount() {
        return stages.size();
    }

    @Override
    protected NDList forwardNet(ParameterStore ps, NDArray x, boolean training, StageHook hook) {
        NDList out = new NDList();
        out.add(null);
        NDArray h = x;
        for (int s = 0; s < stages.size(); s++) {
            Block[] st = stages.get(s);
            h = Activation.relu(Layers.call(st[1], ps, Layers.call(st[0], ps, h, training), training));
            h = Pool.maxPool2d(h, new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false);
            h = hook.apply(s, h);
            out.add(h);
        }
        NDArray f = h.reshape(h.getShape().get(0), -1);
        f = Activation.relu(Layers.call(fc1, ps, f, training));
        f = Layers.call(dropout, ps, f, training);
        out.set(0, Layers.call(fc2, ps, f, training));
        return out;
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape s = inputShapes[0];
        for (Block[] st : stages) {
            for (Block b : st) {
                b.initialize(manager, dataType, s);
                s = b.getOutputShapes(new Shape[] {s})[0];
            }
            s = new Shape(s.get(0), s.get(1), s.get(2) / 2, s.get(3) / 2);
        }
        Shape flat = new Shape(s.get(0), s.get(1) * s.get(2) * s.get(3));
        fc1.initialize(manager, dataType, flat);
        Shape hid = fc1.getOutputShapes(new Shape[] {flat})[0];
        dropout.initialize(manager, dataType, hid);
        fc2.initialize(manager, dataType, hid);
    }
}
