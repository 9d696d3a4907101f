package org.lustra.util;

import ai.djl.engine.Engine;
import java.util.LinkedHashMap;
import java.util.Map;

/** Versions and platform facts recorded in every model card and run manifest. */
public final class Versions {
    private Versions() {}

    public static Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("lustra", "0.1.0-SNAPSHOT");
        m.put("djl", Engine.getDjlVersion());
        Engine engine = Engine.getEngine("PyTorch");
        m.put("engine", engine.getEngineName());
        m.put("pytorch", engine.getVersion());
        m.put("java", System.getProperty("java.version"));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        m.put("cpus", Integer.toString(Runtime.getRuntime().availableProcessors()));
        return m;
    }
}
