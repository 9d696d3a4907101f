package org.lustra.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import java.util.List;
import org.lustra.nn.ClassifierNet;

/** A {@link Classifier} backed by one of Lustra's networks, with its parameters frozen and in eval mode. */
public final class NetClassifier implements Classifier {
    private final String name;
    private final ClassifierNet net;
    private final NDManager manager;
    private final List<String> classNames;

    /** Takes ownership of {@code manager} (which holds the parameters); {@link #close()} closes it. */
    public NetClassifier(String name, ClassifierNet net, NDManager manager, List<String> classNames) {
        this.name = name;
        this.net = net;
        this.manager = manager;
        this.classNames = List.copyOf(classNames);
        net.freezeParameters(true);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int channels() {
        return (int) net.inputShape(1).get(1);
    }

    @Override
    public int size() {
        return (int) net.inputShape(1).get(2);
    }

    @Override
    public List<String> classNames() {
        return classNames;
    }

    public ClassifierNet net() {
        return net;
    }

    @Override
    public Output forward(NDArray x) {
        NDList out = net.forward(new ParameterStore(x.getManager(), false), new NDList(x), false);
        return new Output(out.get(0), List.copyOf(out.subNDList(1)));
    }

    @Override
    public void close() {
        manager.close();
    }
}
