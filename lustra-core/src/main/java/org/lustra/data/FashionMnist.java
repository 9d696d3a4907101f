package org.lustra.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.lustra.util.LustraException;

/**
 * Fashion-MNIST (Xiao et al., 2017): 60k training and 10k test images, 28×28 grayscale, 10 classes. Read from
 * the IDX files of Debian's {@code dataset-fashion-mnist} package or any directory holding the same files.
 */
public final class FashionMnist {
    /** Environment variable that overrides the default directory. */
    public static final String ENV_DIR = "LUSTRA_FASHION_MNIST_DIR";
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    /** Class names in label order; single words so the caption grammar can use them. */
    public static final List<String> CLASSES = List.of(
            "t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot");

    public enum Split {
        TRAIN("train"), TEST("t10k");

        final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }
    }

    private FashionMnist() {}

    /** The directory to read: {@code explicit} if given, else {@value #ENV_DIR}, else the Debian location. */
    public static Path resolveDir(Path explicit) {
        if (explicit != null) {
            return explicit;
        }
        String env = System.getenv(ENV_DIR);
        return env != null && !env.isBlank() ? Path.of(env) : DEFAULT_DIR;
    }

    public static ImageSet load(Path dir, Split split) {
        Path images = find(dir, split.prefix + "-images-idx3-ubyte");
        Path labels = find(dir, split.prefix + "-labels-idx1-ubyte");
        ImageSet set = Idx.readImageSet(images, labels);
        if (set.height() != 28 || set.width() != 28 || set.channels() != 1) {
            throw new LustraException(images + " holds " + set.channels() + "x" + set.height() + "x" + set.width()
                    + " images; Fashion-MNIST is 1x28x28 — is this the right directory?");
        }
        return set;
    }

    private static Path find(Path dir, String base) {
        for (String name : new String[] {base + ".gz", base}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        if (!Files.isDirectory(dir)) {
            throw new LustraException("Fashion-MNIST directory " + dir + " does not exist: install the Debian package "
                    + "dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or point --data-dir / "
                    + ENV_DIR + " at a directory with the IDX files.");
        }
        throw new LustraException("Fashion-MNIST file " + base + "(.gz) is missing from " + dir
                + ": install the Debian package dataset-fashion-mnist or point --data-dir / " + ENV_DIR
                + " at a directory with all four IDX files.");
    }
}
