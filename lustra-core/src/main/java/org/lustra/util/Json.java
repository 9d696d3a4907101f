package org.lustra.util;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The one JSON configuration the project uses (pretty, stable field order, NaN allowed for metrics). */
public final class Json {
    public static final Gson GSON =
            new GsonBuilder().setObjectToNumberStrategy(com.google.gson.ToNumberPolicy.LONG_OR_DOUBLE).setPrettyPrinting().disableHtmlEscaping().serializeSpecialFloatingPointValues().create();

    private Json() {}

    public static <T> T read(Path file, Class<T> type) {
        T value = fromTree(parse(file), type, file);
        if (value == null) {
            throw new LustraException(file + " is empty; expected a JSON " + type.getSimpleName() + ".");
        }
        return value;
    }

    /** The file's JSON tree; unreadable or malformed files fail with the file named. */
    private static JsonElement parse(Path file) {
        try {
            return JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read " + file, e);
        } catch (JsonParseException e) {
            throw new LustraException(file + " is not valid JSON (" + e.getMessage() + "); restore it or regenerate it.", e);
        }
    }

    /** The JSON object in {@code file}, for readers that check its keys before binding it. */
    public static JsonObject readObject(Path file) {
        JsonElement tree = parse(file);
        if (!tree.isJsonObject()) {
            throw new LustraException(file + " holds " + (tree.isJsonNull() ? "nothing" : "a JSON "
                    + (tree.isJsonArray() ? "array" : "value")) + "; expected a JSON object { … }.");
        }
        return tree.getAsJsonObject();
    }

    /** Binds a tree read from {@code file} (a record's constructor validates). */
    public static <T> T fromTree(JsonElement tree, Class<T> type, Path file) {
        try {
            return GSON.fromJson(tree, type);
        } catch (JsonParseException e) {
            throw new LustraException(file + " does not fit a " + type.getSimpleName() + " (" + e.getMessage()
                    + "); fix the value named there.", e);
        }
    }

    /**
     * Fails when {@code object} has a key that is not a component of {@code type}, naming it, the closest known key
     * and where it was found ({@code where}).
     */
    public static void requireKnownKeys(JsonObject object, Class<? extends Record> type, String where) {
        java.util.List<String> known = java.util.Arrays.stream(type.getRecordComponents())
                .map(java.lang.reflect.RecordComponent::getName).toList();
        for (String key : object.keySet()) {
            if (!known.contains(key)) {
                String near = known.stream().filter(k -> k.equalsIgnoreCase(key)).findFirst().orElse(null);
                throw new LustraException(where + " has the unknown key \"" + key + "\"; "
                        + (near != null ? "did you mean \"" + near + "\"? " : "")
                        + "the keys " + type.getSimpleName() + " reads are " + known + ".");
            }
        }
    }

    /** A record's fields as a JSON-shaped map (how configurations are stored in model cards). */
    public static java.util.Map<String, Object> toMap(Object value) {
        return GSON.fromJson(GSON.toJsonTree(value),
                new com.google.gson.reflect.TypeToken<java.util.Map<String, Object>>() {}.getType());
    }

    /** The inverse of {@link #toMap}: a value of {@code type} from its map (the record's constructor validates). */
    public static <T> T fromMap(java.util.Map<String, Object> fields, Class<T> type) {
        return GSON.fromJson(GSON.toJsonTree(fields), type);
    }

    public static void writeAtomically(Path file, Object value) {
        Files2.writeAtomically(file, (GSON.toJson(value) + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
