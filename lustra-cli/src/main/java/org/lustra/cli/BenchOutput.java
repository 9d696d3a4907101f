package org.lustra.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.lustra.util.LustraException;
import org.lustra.util.LustraHome;

/**
 * Where {@code bench} writes, checked before anything is measured (a run takes minutes; failing at the end would
 * waste them). A run never touches {@code docs/bench.json} unless asked to with {@code --record}.
 */
final class BenchOutput {
    private BenchOutput() {}

    /** {@code --out} if given, else target/bench.json in the checkout, else bench.json in a new temporary folder. */
    static Path resolve(Path out) {
        if (out != null) {
            Path file = out.toAbsolutePath().normalize();
            if (Files.isDirectory(file)) {
                throw new LustraException("--out " + out + " is a folder; give a file name, e.g. --out "
                        + out.resolve("bench.json") + ".");
            }
            if (!writable(file)) {
                throw new LustraException("Cannot write --out " + out + ": its folder cannot be created or is not "
                        + "writable.");
            }
            return file;
        }
        Path inCheckout = LustraHome.root().resolve("target").resolve("bench.json");
        if (writable(inCheckout)) {
            return inCheckout;
        }
        try {
            return Files.createTempDirectory("lustra-bench").resolve("bench.json");
        } catch (IOException e) {
            throw new LustraException("Cannot write " + inCheckout + " nor a temporary folder (" + e.getMessage()
                    + "); pass --out FILE.");
        }
    }

    /** docs/bench.json in the checkout, for {@code --record}. */
    static Path docs() {
        Path docs = LustraHome.root().resolve("docs").resolve("bench.json");
        if (!Files.isDirectory(docs.getParent())) {
            throw new LustraException("--record writes docs/bench.json of the checkout, but " + docs.getParent()
                    + " does not exist; run from the repository root or set LUSTRA_HOME.");
        }
        if (!writable(docs)) {
            throw new LustraException("--record cannot write " + docs + " (not writable).");
        }
        return docs;
    }

    /** Whether {@code file} can be written the way the JSON is (a temporary sibling renamed over it): by trying. */
    private static boolean writable(Path file) {
        if (Files.isDirectory(file) || (Files.exists(file) && !Files.isWritable(file))) {
            return false;
        }
        try {
            Path parent = file.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Files.delete(Files.createTempFile(parent, ".bench", ".probe"));
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
