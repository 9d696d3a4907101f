package org.lustra.serve;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.javalin.http.Context;
import io.javalin.http.UploadedFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;

/**
 * One image request, from any of the three forms the API accepts: {@code multipart/form-data} with a file field
 * {@code image} (the web page, {@code curl -F}), JSON with the image as base64 or a data URL, or the raw image bytes
 * ({@code Content-Type: image/png}, options in the query string). Options may also come from the query string.
 *
 * @param image the encoded image bytes (not decoded yet: the decoder checks the header first)
 * @param name the upload's file name, for messages
 */
record ImageRequest(byte[] image, String name, String defense, long seed, boolean resize, int top) {

    /** Parses {@code ctx}; the body size was already checked against its Content-Length. */
    static ImageRequest from(Context ctx, String defaultDefense) {
        String type = ctx.contentType() == null ? "" : ctx.contentType().toLowerCase(Locale.ROOT);
        if (ctx.isMultipartFormData()) {
            UploadedFile f = upload(ctx);
            return of(read(f.content()), f.filename(), name -> first(ctx.formParam(name), ctx.queryParam(name)),
                    defaultDefense);
        }
        if (type.startsWith("application/json")) {
            JsonObject body = json(ctx.bodyAsBytes());
            JsonElement img = body.get("image");
            if (img == null || !img.isJsonPrimitive()) {
                throw new ApiError(400, "The JSON body has no \"image\" string; send the image as base64 or a data "
                        + "URL in \"image\".");
            }
            return of(base64(img.getAsString()), "image", name -> first(text(body, name), ctx.queryParam(name)),
                    defaultDefense);
        }
        if (type.startsWith("image/") || type.startsWith("application/octet-stream")) {
            return of(ctx.bodyAsBytes(), "image", ctx::queryParam, defaultDefense);
        }
        throw new ApiError(415, "Unsupported Content-Type '" + type + "'; send multipart/form-data with a file field "
                + "'image', JSON with a base64 \"image\", or the raw image bytes as image/png.");
    }

    private interface Params {
        String get(String name);
    }

    private static ImageRequest of(byte[] image, String name, Params p, String defaultDefense) {
        if (image.length == 0) {
            throw new ApiError(400, "The image is empty; send a PNG, JPEG, BMP or GIF file.");
        }
        String defense = first(p.get("defense"), defaultDefense);
        long seed = parse(p.get("seed"), "seed", 0L);
        int top = (int) parse(p.get("top"), "top", 3L);
        if (top < 1 || top > 100) {
            throw new ApiError(400, "Invalid top " + top + ": must be in 1..100.");
        }
        String resize = first(p.get("resize"), "false").toLowerCase(Locale.ROOT);
        if (!resize.equals("true") && !resize.equals("false")) {
            throw new ApiError(400, "Invalid resize '" + resize + "': must be true or false.");
        }
        String shown = name == null || name.isBlank() ? "image" : name.replaceAll("[^\\w. -]", "_");
        return new ImageRequest(image, shown, defense, seed, resize.equals("true"), top);
    }

    private static UploadedFile upload(Context ctx) {
        UploadedFile f;
        try {
            f = ctx.uploadedFile("image");
        } catch (RuntimeException e) {
            // Jetty's multipart parser enforces the configured sizes while reading
            String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
            if (m.contains("max") || m.contains("exceed") || m.contains("too large")) {
                throw new ApiError(413, "The upload is larger than this server accepts; send a smaller image.");
            }
            throw new ApiError(400, "The multipart body could not be read; send a form with a file field 'image'.");
        }
        if (f == null) {
            throw new ApiError(400, "The form has no file field 'image'; send the image as 'image'.");
        }
        return f;
    }

    private static byte[] read(InputStream in) {
        try (in) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new ApiError(400, "The upload could not be read (" + e.getMessage() + "); send it again.");
        }
    }

    private static JsonObject json(byte[] body) {
        try {
            JsonElement e = JsonParser.parseString(new String(body, StandardCharsets.UTF_8));
            if (!e.isJsonObject()) {
                throw new ApiError(400, "The JSON body must be an object with an \"image\" field.");
            }
            return e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new ApiError(400, "The body is not valid JSON; send an object with a base64 \"image\" field.");
        }
    }

    private static byte[] base64(String s) {
        int comma = s.startsWith("data:") ? s.indexOf(',') : -1;
        String data = (comma >= 0 ? s.substring(comma + 1) : s).replaceAll("\\s", "");
        try {
            return Base64.getDecoder().decode(data);
        } catch (IllegalArgumentException e) {
            throw new ApiError(400, "The \"image\" field is not valid base64; send base64 or a data URL.");
        }
    }

    private static String text(JsonObject body, String name) {
        JsonElement e = body.get(name);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (!e.isJsonPrimitive()) {
            throw new ApiError(400, "Invalid \"" + name + "\": must be a string, a number or a boolean.");
        }
        return e.getAsString();
    }

    private static String first(String a, String b) {
        return a != null && !a.isBlank() ? a : b;
    }

    private static long parse(String v, String name, long dflt) {
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new ApiError(400, "Invalid " + name + " '" + v + "': must be an integer.");
        }
    }
}
