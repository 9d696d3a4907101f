package org.lustra.model;

import java.util.Arrays;
import java.util.Locale;
import org.lustra.nn.ClassifierNet;
import org.lustra.nn.ResNet;
import org.lustra.nn.VggNet;
import org.lustra.nn.VisionTransformer;

/**
 * A classifier architecture and its configuration, as written in a model card. Fields a type does not use are 0.
 *
 * @param type {@code resnet}, {@code vit} or {@code vgg}
 * @param channels input channels
 * @param size input height = width
 * @param classes number of classes
 * @param widths channels per stage (resnet, vgg)
 * @param blocks residual blocks per stage (resnet)
 * @param patch patch size (vit)
 * @param dim token width (vit)
 * @param depth transformer blocks (vit)
 * @param heads attention heads (vit)
 * @param hidden MLP width (vit: per block; vgg: head)
 * @param stem channels of the ViT's 3×3 convolutional stem before patchifying (0: plain linear patch embedding)
 */
public record Architecture(String type, int channels, int size, int classes, int[] widths, int blocks, int patch,
        int dim, int depth, int heads, int hidden, int stem) {

    public Architecture {
        if (type == null || !(type.equals("resnet") || type.equals("vit") || type.equals("vgg"))) {
            throw new IllegalArgumentException("Invalid architecture type: " + type + " (expected resnet, vit or vgg)");
        }
        if (channels <= 0 || size <= 0 || classes < 2) {
            throw new IllegalArgumentException("Invalid input/classes: " + channels + "x" + size + "x" + size + ", "
                    + classes + " classes");
        }
        widths = widths == null ? new int[0] : widths.clone();
    }

    public static Architecture resnet(int channels, int size, int classes, int[] widths, int blocks) {
        return new Architecture("resnet", channels, size, classes, widths, blocks, 0, 0, 0, 0, 0, 0);
    }

    public static Architecture vit(int channels, int size, int classes, int patch, int dim, int depth, int heads,
            int mlp, int stem) {
        return new Architecture("vit", channels, size, classes, null, 0, patch, dim, depth, heads, mlp, stem);
    }

    public static Architecture vgg(int channels, int size, int classes, int[] widths, int hidden) {
        return new Architecture("vgg", channels, size, classes, widths, 0, 0, 0, 0, 0, hidden, 0);
    }

    /** Builds the (uninitialised) network. */
    public ClassifierNet build() {
        return switch (type) {
            case "resnet" -> new ResNet(channels, size, classes, widths, blocks);
            case "vit" -> new VisionTransformer(channels, size, classes, patch, dim, depth, heads, hidden, stem);
            case "vgg" -> new VggNet(channels, size, classes, widths, hidden);
            default -> throw new IllegalStateException(type);
        };
    }

    /**
     * Builds the network and initialises its parameters in {@code manager} from {@code seed} (the engine's generator
     * is seeded first, so the same seed gives the same bytes). Input batch size for shape inference: 1.
     */
    public ClassifierNet initialize(ai.djl.ndarray.NDManager manager, long seed) {
        ai.djl.engine.Engine.getInstance().setRandomSeed((int) seed);
        ClassifierNet net = build();
        net.setInitializer(net.weightInitializer(),
                p -> p.getType() == ai.djl.nn.Parameter.Type.WEIGHT && p.getInitializer() == null);
        net.initialize(manager, ai.djl.ndarray.types.DataType.FLOAT32, net.inputShape(1));
        return net;
    }

    public String describe() {
        return switch (type) {
            case "resnet" -> String.format(Locale.ROOT, "ResNet widths %s, %d block(s)/stage", Arrays.toString(widths),
                    blocks);
            case "vit" -> String.format(Locale.ROOT, "ViT patch %d, dim %d, depth %d, %d heads, MLP %d%s", patch, dim,
                    depth, heads, hidden, stem > 0 ? ", conv stem " + stem : "");
            default -> String.format(Locale.ROOT, "VGG-style CNN widths %s, head %d", Arrays.toString(widths), hidden);
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Architecture a && type.equals(a.type) && channels == a.channels && size == a.size
                && classes == a.classes && Arrays.equals(widths, a.widths) && blocks == a.blocks && patch == a.patch
                && dim == a.dim && depth == a.depth && heads == a.heads && hidden == a.hidden && stem == a.stem;
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + Arrays.hashCode(widths) + 7 * (channels + size * 13 + classes * 17 + blocks
                + patch * 19 + dim * 23 + depth * 29 + heads * 37 + hidden * 41 + stem * 43);
    }

    @Override
    public String toString() {
        return describe();
    }
}
