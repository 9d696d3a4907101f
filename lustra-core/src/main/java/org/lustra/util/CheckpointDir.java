package org.lustra.util;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A training checkpoint as a directory of files, replaced atomically: the new checkpoint is written in full to
 * {@code checkpoint.new}, the current one renamed to {@code checkpoint.old}, the new one renamed into place, and the
 * old one deleted. A crash at any moment leaves either the previous or the new checkpoint readable.
 */
public final class CheckpointDir {
    private final Path root;

    public CheckpointDir(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /** The newest complete checkpoint directory, or null if there is none. */
    public Path latest() {
        Path current = root.resolve("checkpoint");
        if (Files.isDirectory(current)) {
            return current;
        }
        Path old = root.resolve("checkpoint.old");
        return Files.isDirectory(old) ? old : null;
    }

    /** Writes the files (name → bytes) as the new checkpoint. */
    public void write(Map<String, byte[]> files) {
        try {
            Path fresh = root.resolve("checkpoint.new");
            Path current = root.resolve("checkpoint");
            Path old = root.resolve("checkpoint.old");
            Files2.deleteTree(fresh);
            Files.createDirectories(fresh);
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                Files.write(fresh.resolve(f.getKey()), f.getValue());
            }
            Files2.deleteTree(old);
            if (Files.isDirectory(current)) {
                Files2.moveAtomically(current, old);
            }
            Files2.moveAtomically(fresh, current);
            Files2.deleteTree(old);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not write checkpoint in " + root, e);
        }
    }
}
