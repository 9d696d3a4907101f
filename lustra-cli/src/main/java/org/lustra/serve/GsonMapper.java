package org.lustra.serve;

import com.google.gson.FormattingStyle;
import com.google.gson.Gson;
import io.javalin.json.JsonMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import org.lustra.util.Json;

/** Javalin's JSON through the project's Gson configuration (compact), so the service adds no second JSON library. */
final class GsonMapper implements JsonMapper {
    static final Gson GSON = Json.GSON.newBuilder().setFormattingStyle(FormattingStyle.COMPACT).create();

    @Override
    public String toJsonString(Object obj, Type type) {
        return GSON.toJson(obj, type);
    }

    @Override
    public InputStream toJsonStream(Object obj, Type type) {
        return new ByteArrayInputStream(toJsonString(obj, type).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public <T> T fromJsonString(String json, Type type) {
        return GSON.fromJson(json, type);
    }

    @Override
    public <T> T fromJsonStream(InputStream json, Type type) {
        try {
            return fromJsonString(new String(json.readAllBytes(), StandardCharsets.UTF_8), type);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
