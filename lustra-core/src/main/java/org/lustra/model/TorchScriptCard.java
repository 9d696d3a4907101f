package org.lustra.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.lustra.util.LustraException;

/**
 * What Lustra must know about a user's TorchScript classifier that the file does not say: the JSON beside
 * {@code model.pt} ({@code model.pt.json} or {@code model.json}).
 *
 * <pre>
 * {"name": "my-net", "classes": ["cat", "dog"], "channels": 3, "size": 32,
 *  "range": [0, 1], "mean": [0.49, 0.48, 0.45], "std": [0.25, 0.24, 0.26]}
 * </pre>
 *
 * Lustra's images are (N, C, H, W) in [0, 1]; the module is given {@code ((lo + (hi − lo)·x) − mean) / std}, which is
 * how torchvision-style models are usually fed ({@code range} [0, 255] for models that expect raw bytes, mean 0 and
 * std 1 when omitted). The module must return logits (N, K), one per class; attacks differentiate them, so a final
 * softmax would flatten their gradients.
 *
 * @param name shown in reports (default: the file name without its extension)
 * @param classes one name per output, at least two
 * @param channels 1 (grey) or 3 (RGB)
 * @param size input height = width in pixels, 4 to 1024
 * @param range {lo, hi} the value the module expects for black and for white, lo &lt; hi
 * @param mean per channel (or one for all), subtracted after the range mapping
 * @param std per channel (or one for all), positive, divides after the mean
 */
public record TorchScriptCard(String name, List<String> classes, int channels, int size, float[] range, float[] mean,
        float[] std) {
    /** The fields a description may have; anything else is a typo to report, not to ignore. */
    static final Set<String> FIELDS = Set.of("name", "classes", "channels", "size", "range", "mean", "std");
    static final String EXAMPLE = "{\"classes\": [\"cat\", \"dog\"], \"channels\": 3, \"size\": 32, \"range\": [0, 1], "
            + "\"mean\": [0.5, 0.5, 0.5], \"std\": [0.25, 0.25, 0.25]}";

    public TorchScriptCard {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("Invalid name: empty");
        }
        if (classes == null || classes.size() < 2) {
            throw new IllegalArgumentException("Invalid classes: " + (classes == null ? 0 : classes.size())
                    + " given, at least 2 needed (one name per output of the model)");
        }
        if (classes.stream().anyMatch(c -> c == null || c.isBlank())) {
            throw new IllegalArgumentException("Invalid classes: a class name is empty");
        }
        if (new HashSet<>(classes).size() != classes.size()) {
            throw new IllegalArgumentException("Invalid classes: a class name is repeated");
        }
        classes = List.copyOf(classes);
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("Invalid channels: " + channels + " (1 for grey or 3 for RGB)");
        }
        if (size < 4 || size > 1024) {
            throw new IllegalArgumentException("Invalid size: " + size + " (4 to 1024 pixels, height = width)");
        }
        range = range == null ? new float[] {0f, 1f} : range.clone();
        if (range.length != 2 || !(range[0] < range[1]) || !finite(range)) {
            throw new IllegalArgumentException("Invalid range: " + Arrays.toString(range) + " (two finite numbers "
                    + "[lo, hi] with lo < hi, e.g. [0, 1] or [0, 255])");
        }
        mean = perChannel("mean", mean, channels, 0f);
        std = perChannel("std", std, channels, 1f);
        for (float s : std) {
            if (!(s > 0)) {
                throw new IllegalArgumentException("Invalid std: " + s + " (every value must be positive)");
            }
        }
    }

    private static float[] perChannel(String field, float[] v, int channels, float fill) {
        if (v == null) {
            float[] out = new float[channels];
            Arrays.fill(out, fill);
            return out;
        }
        if (!finite(v) || (v.length != 1 && v.length != channels)) {
            throw new IllegalArgumentException("Invalid " + field + ": " + Arrays.toString(v) + " (one finite number, "
                    + "or one per channel: " + channels + ")");
        }
        if (v.length == 1 && channels > 1) {
            float[] out = new float[channels];
            Arrays.fill(out, v[0]);
            return out;
        }
        return v.clone();
    }

    private static boolean finite(float[] v) {
        for (float f : v) {
            if (!Float.isFinite(f)) {
                return false;
            }
        }
        return true;
    }

    /** Per channel, the module's input is {@code x · scale[c] + shift[c]} for Lustra's x in [0, 1]. */
    public float[] scale() {
        float[] s = new float[channels];
        for (int c = 0; c < channels; c++) {
            s[c] = (range[1] - range[0]) / std[c];
        }
        return s;
    }

    /** See {@link #scale()}. */
    public float[] shift() {
        float[] s = new float[channels];
        for (int c = 0; c < channels; c++) {
            s[c] = (range[0] - mean[c]) / std[c];
        }
        return s;
    }

    /** True when the module takes Lustra's [0, 1] images as they are. */
    public boolean identityInput() {
        float[] sc = scale();
        float[] sh = shift();
        for (int c = 0; c < channels; c++) {
            if (sc[c] != 1f || sh[c] != 0f) {
                return false;
            }
        }
        return true;
    }

    /**
     * The description of TorchScript file {@code model}: {@code model.pt.json} beside it, else {@code model.json} (the
     * name without its extension). Every problem is one sentence naming the file, what is wrong and how to fix it.
     */
    public static TorchScriptCard read(Path model) {
        Path json = find(model);
        JsonElement root;
        try {
            root = JsonParser.parseString(Files.readString(json, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read " + json, e);
        } catch (RuntimeException e) {
            throw new LustraException(json + " is not valid JSON (" + e.getMessage() + "); fix it, e.g. " + EXAMPLE
                    + ".", e);
        }
        if (!root.isJsonObject()) {
            throw new LustraException(json + " must hold a JSON object, e.g. " + EXAMPLE + ".");
        }
        try {
            return parse(root.getAsJsonObject(), stem(model));
        } catch (IllegalArgumentException e) {
            throw new LustraException(json + " describes the classifier wrongly (" + e.getMessage() + "); fix the "
                    + "field, e.g. " + EXAMPLE + ".", e);
        }
    }

    /** The JSON file describing {@code model}; refuses none and two. */
    static Path find(Path model) {
        Path beside = model.resolveSibling(model.getFileName() + ".json");
        Path stemmed = model.resolveSibling(stem(model) + ".json");
        boolean a = Files.isRegularFile(beside);
        boolean b = !stemmed.equals(beside) && Files.isRegularFile(stemmed);
        if (a && b) {
            throw new LustraException("Both " + beside + " and " + stemmed + " describe " + model.getFileName()
                    + "; keep one of them.");
        }
        if (!a && !b) {
            throw new LustraException("TorchScript classifier " + model + " has no description beside it; write "
                    + stemmed + " with its classes, input size and value range, e.g. " + EXAMPLE + ".");
        }
        return a ? beside : stemmed;
    }

    static String stem(Path model) {
        String f = model.getFileName().toString();
        int dot = f.lastIndexOf('.');
        return dot > 0 ? f.substring(0, dot) : f;
    }

    /** Reads the fields; type errors are IllegalArgumentExceptions naming the field. */
    static TorchScriptCard parse(JsonObject o, String defaultName) {
        for (String key : o.keySet()) {
            if (!FIELDS.contains(key)) {
                throw new IllegalArgumentException("unknown field \"" + key + "\"; the fields are " + String.join(", ",
                        FIELDS.stream().sorted().toList()));
            }
        }
        for (String required : List.of("classes", "channels", "size")) {
            if (!o.has(required) || o.get(required).isJsonNull()) {
                throw new IllegalArgumentException("field \"" + required + "\" is missing");
            }
        }
        String name = o.has("name") ? string(o.get("name"), "name") : defaultName;
        List<String> classes = new ArrayList<>();
        for (JsonElement e : array(o.get("classes"), "classes")) {
            classes.add(string(e, "classes"));
        }
        return new TorchScriptCard(name, classes, integer(o.get("channels"), "channels"),
                integer(o.get("size"), "size"), numbers(o, "range"), numbers(o, "mean"), numbers(o, "std"));
    }

    private static JsonArray array(JsonElement e, String field) {
        if (!e.isJsonArray()) {
            throw new IllegalArgumentException("field \"" + field + "\" must be a list");
        }
        return e.getAsJsonArray();
    }

    private static String string(JsonElement e, String field) {
        if (!(e instanceof JsonPrimitive p) || !p.isString()) {
            throw new IllegalArgumentException("field \"" + field + "\" must hold text, got " + e);
        }
        return p.getAsString();
    }

    private static int integer(JsonElement e, String field) {
        if (!(e instanceof JsonPrimitive p) || !p.isNumber()) {
            throw new IllegalArgumentException("field \"" + field + "\" must be a whole number, got " + e);
        }
        double d = p.getAsDouble();
        if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("field \"" + field + "\" must be a whole number, got " + e);
        }
        return (int) d;
    }

    /** An optional list of numbers; a lone number is taken as a one-element list. */
    private static float[] numbers(JsonObject o, String field) {
        if (!o.has(field) || o.get(field).isJsonNull()) {
            return null;
        }
        JsonElement e = o.get(field);
        List<JsonElement> items = new ArrayList<>();
        if (e.isJsonArray()) {
            e.getAsJsonArray().forEach(items::add);
        } else {
            items.add(e);
        }
        float[] out = new float[items.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(items.get(i) instanceof JsonPrimitive p) || !p.isNumber()) {
                throw new IllegalArgumentException("field \"" + field + "\" must hold numbers, got " + e);
            }
            out[i] = p.getAsFloat();
        }
        return out;
    }

    /** "1x28x28", for messages. */
    public String shapeText() {
        return String.format(Locale.ROOT, "%dx%dx%d", channels, size, size);
    }
}
