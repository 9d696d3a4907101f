package org.lustra.model;

import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.lustra.util.LustraException;

/**
 * A user's TorchScript classifier ({@code torch.jit.trace} or {@code torch.jit.script} output) behind the
 * {@link Classifier} interface, described by a {@link TorchScriptCard}. Lustra's [0, 1] images are mapped to the range
 * and normalisation the card declares inside {@link #forward}, so attacks and defences see the same classifier
 * contract as for Lustra's own networks, and gradients reach the [0, 1] input.
 *
 * <p>Gradients: DJL runs a TorchScript module called with {@code training = false} under PyTorch's no-grad guard, so an
 * attack would get no input gradient (DJL-NOTES, "Autograd"). The module is therefore put in eval mode once with
 * {@link JniUtils#enableInferenceMode} (BatchNorm uses its running statistics, dropout is off) and always called with
 * {@code training = true}: DJL then skips the guard and leaves the module's mode alone, so outputs are eval-mode outputs
 * and PyTorch records a graph whenever the caller's grad mode is on (inside a gradient collector) — and none otherwise.
 * The parameters are frozen, so gradients go to the input only.
 *
 * <p>No stage activations: a traced module is a black box, so {@link #exposesStages()} is false and defences that read
 * the classifier's inner features (hetero's attention mask, feature norm clipping) refuse it.
 */
public final class TorchScriptClassifier implements Classifier {
    private final TorchScriptCard card;
    private final Path file;
    private final Model model;
    private final Block block;
    /** (1, C, 1, 1) scale and shift of the input mapping, or null when the module takes [0, 1] as it is. */
    private final NDArray scale;
    private final NDArray shift;

    private TorchScriptClassifier(TorchScriptCard card, Path file, Model model) {
        this.card = card;
        this.file = file;
        this.model = model;
        this.block = model.getBlock();
        NDManager m = model.getNDManager();
        Shape perChannel = new Shape(1, card.channels(), 1, 1);
        this.scale = card.identityInput() ? null : m.create(card.scale(), perChannel);
        this.shift = card.identityInput() ? null : m.create(card.shift(), perChannel);
    }

    /**
     * Loads {@code file} and its description (see {@link TorchScriptCard#read}), puts the module in eval mode with
     * frozen parameters, and runs one zero image of the declared shape through it to check that it accepts the input
     * and returns one logit per class; every failure is one sentence naming the file and the fix.
     */
    public static TorchScriptClassifier load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new LustraException("Classifier file " + file + " does not exist; give the path of a TorchScript "
                    + "file saved with torch.jit.trace(model, example).save(\"model.pt\").");
        }
        TorchScriptCard card = TorchScriptCard.read(file);
        Model model = Model.newInstance(card.name(), "PyTorch");
        try {
            // trainParam: without it DJL loads the module under PyTorch's inference mode, and its weights become
            // inference tensors that autograd refuses to save ("Inference tensors cannot be saved for backward"),
            // so no input gradient could pass; the weights are frozen right after instead
            model.load(file.toAbsolutePath(), null, Map.of("trainParam", "true"));
        } catch (IOException | MalformedModelException | RuntimeException e) {
            model.close();
            throw new LustraException("Classifier file " + file + " is not a TorchScript module PyTorch "
                    + Engine.getEngine("PyTorch").getVersion() + " can load (" + firstLine(e) + "); save the model with torch.jit.trace or torch.jit.script "
                    + "(torch.save of a state_dict is not enough).", e);
        }
        if (!(model.getBlock() instanceof PtSymbolBlock)) {
            model.close();
            throw new LustraException("Classifier file " + file + " did not load as a TorchScript module; save it with "
                    + "torch.jit.trace or torch.jit.script.");
        }
        TorchScriptClassifier c = new TorchScriptClassifier(card, file, model);
        try {
            JniUtils.enableInferenceMode((PtSymbolBlock) model.getBlock());
            c.block.freezeParameters(true);
            c.probe();
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** One zero image of the declared shape: the module must take it and return (1, K) logits. */
    private void probe() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray logits;
            try {
                logits = forward(m.zeros(new Shape(1, card.channels(), card.size(), card.size()))).logits();
            } catch (EngineException | IllegalStateException e) {
                throw new LustraException("Classifier " + file + " fails on a " + card.shapeText() + " input, the "
                        + "shape its description declares (" + firstLine(e) + "); set \"channels\" and \"size\" to "
                        + "the input the model was traced with.", e);
            }
            Shape s = logits.getShape();
            if (s.dimension() != 2 || s.get(0) != 1 || s.get(1) != card.classes().size()) {
                throw new LustraException("Classifier " + file + " returns shape " + s + " for one image but its "
                        + "description names " + card.classes().size() + " classes; list one class name per output "
                        + "(the model must return logits of shape (N, classes)).");
            }
            if (logits.getDataType() != DataType.FLOAT32) {
                throw new LustraException("Classifier " + file + " returns " + logits.getDataType() + " logits; "
                        + "export it in float32 (model.float() before tracing).");
            }
        }
    }

    private static String firstLine(Throwable e) {
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip();
        int nl = msg.indexOf('\n');
        msg = nl < 0 ? msg : msg.substring(0, nl);
        return msg.length() > 200 ? msg.substring(0, 200) + "…" : msg;
    }

    public TorchScriptCard card() {
        return card;
    }

    public Path file() {
        return file;
    }

    @Override
    public String name() {
        return card.name();
    }

    @Override
    public int channels() {
        return card.channels();
    }

    @Override
    public int size() {
        return card.size();
    }

    @Override
    public List<String> classNames() {
        return card.classes();
    }

    @Override
    public boolean exposesStages() {
        return false;
    }

    /** Logits (N, K) owned by {@code x}'s manager and no stages; differentiable in {@code x}. */
    @Override
    public Output forward(NDArray x) {
        NDArray in = scale == null ? x : x.mul(scale).add(shift);
        NDList out = block.forward(new ParameterStore(x.getManager(), false), new NDList(in), true);
        NDArray logits = out.get(0);
        for (int i = 1; i < out.size(); i++) {
            out.get(i).close();
        }
        logits.attach(x.getManager());
        return new Output(logits, List.of());
    }

    @Override
    public void close() {
        model.close();
    }
}
