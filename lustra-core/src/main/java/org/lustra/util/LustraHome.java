package org.lustra.util;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the shipped {@code models/} and {@code data/} live: the system property {@code lustra.home}, else the
 * environment variable {@code LUSTRA_HOME}, else the nearest directory at or above the working directory that
 * holds both.
 */
public final class LustraHome {
    private LustraHome() {}

    public static Path root() {
        String p = System.getProperty("lustra.home");
        if (p == null || p.isBlank()) {
            p = System.getenv("LUSTRA_HOME");
        }
        if (p != null && !p.isBlank()) {
            return Path.of(p).toAbsolutePath().normalize();
        }
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("models")) && Files.isDirectory(d.resolve("data"))) {
                return d;
            }
        }
        return dir;
    }

    public static Path models() {
        return root().resolve("models");
    }

    public static Path data() {
        return root().resolve("data");
    }

    /**
     * Default home of training checkpoints: {@code $LUSTRA_CHECKPOINTS}, else {@code ~/.cache/lustra/checkpoints} —
     * outside the checkout, so a fresh work tree on the same machine can still resume a long run.
     */
    public static Path checkpoints() {
        String p = System.getenv("LUSTRA_CHECKPOINTS");
        if (p != null && !p.isBlank()) {
            return Path.of(p);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "lustra", "checkpoints");
    }
}
