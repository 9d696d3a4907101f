package org.lustra.util;

import ai.djl.engine.Engine;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/** Versions and platform facts recorded in every model card and run manifest. */
public final class Versions {
    /** What {@link #buildCommit()} says when the jar was built without a commit (a plain {@code mvn package}). */
    public static final String UNKNOWN = "unknown";

    private Versions() {}

    public static Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("lustra", "0.1.0-SNAPSHOT");
        m.put("build", buildCommit());
        m.put("djl", Engine.getDjlVersion());
        Engine engine = Engine.getEngine("PyTorch");
        m.put("engine", engine.getEngineName());
        m.put("pytorch", engine.getVersion());
        m.put("java", System.getProperty("java.version"));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        m.put("cpus", Integer.toString(Runtime.getRuntime().availableProcessors()));
        return m;
    }

    /**
     * The commit the running code was built from, "-dirty" when its sources had uncommitted changes, as the launcher
     * stamped it at package time; {@link #UNKNOWN} otherwise. A run's manifest also records the checkout's HEAD when
     * the run starts, which is a different thing when the jar was built earlier or copied elsewhere.
     */
    public static String buildCommit() {
        Properties p = new Properties();
        try (InputStream in = Versions.class.getResourceAsStream("build.properties")) {
            if (in == null) {
                return UNKNOWN;
            }
            p.load(in);
        } catch (IOException e) {
            return UNKNOWN;
        }
        return stamp(p.getProperty("commit"));
    }

    /** A stamped value, or {@link #UNKNOWN} when Maven left the placeholder or nothing. */
    static String stamp(String value) {
        if (value == null || value.isBlank() || value.contains("${")) {
            return UNKNOWN;
        }
        return value.trim();
    }
}
