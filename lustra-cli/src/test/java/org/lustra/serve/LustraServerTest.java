package org.lustra.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lustra.cli.TestImages;
import org.lustra.data.ImageFiles;
import org.lustra.data.Subsets;

/**
 * {@code lustra serve} on an ephemeral loopback port with the shipped models: one real purification, and the refusals
 * that must happen before any decoding or model work (token, body size, image header).
 */
class LustraServerTest {
    private static final String TOKEN = "test-token";
    private static LustraServer server;
    private static byte[] png;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] x = Subsets.load("eval512").batch(m, 0, 1).toFloatArray();
            png = ImageFiles.encodePng(Arrays.copyOf(x, 784), 1, 28, 28);
        }
        // 2 restoration steps keep the test quick; 64 KiB and 1 Mpx are small limits to test against
        server = LustraServer.start(ServeOptions.defaults().withPort(0).withToken(TOKEN).withDefense("diffender:ddim2")
                .withLimits(64 * 1024, 1 << 20));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void givenAnImage_whenPurified_thenPredictionsBeforeAndAfterAndPngsComeBack() throws Exception {
        HttpResponse<String> r = post("/v1/purify", multipart(png, "seed", "3"), true);
        assertEquals(200, r.statusCode(), r.body());
        JsonObject body = JsonParser.parseString(r.body()).getAsJsonObject();
        assertEquals("diffender:ddim2", body.get("defense").getAsString());
        for (String side : new String[] {"before", "after"}) {
            JsonObject p = body.getAsJsonObject(side);
            assertFalse(p.get("className").getAsString().isBlank(), side);
            double prob = p.get("probability").getAsDouble();
            assertTrue(prob > 0 && prob <= 1, side + " probability " + prob);
        }
        for (String image : new String[] {"purifiedPng", "maskPng", "anomalyPng"}) {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(
                    body.get(image).getAsString())));
            assertNotNull(img, image + " is a PNG");
            assertEquals(28, img.getWidth(), image);
            assertEquals(28, img.getHeight(), image);
        }
        assertTrue(body.getAsJsonObject("timings").get("totalMs").getAsDouble() > 0);
    }

    @Test
    void givenNoToken_whenPosting_then401WithOneSentence() throws Exception {
        HttpResponse<String> r = post("/v1/purify", multipart(png), false);
        assertEquals(401, r.statusCode(), r.body());
        assertTrue(error(r).contains("Authorization: Bearer"), r.body());
    }

    @Test
    void givenAHeaderOf20000x20000_whenResizeIsAllowed_then413BeforeDecoding() throws Exception {
        // the file has a header and no pixel data: decoding it would fail, so a size answer proves the header check
        byte[] bomb = TestImages.pngHeaderOnly(20000, 20000);
        HttpResponse<String> r = post("/v1/purify", multipart(bomb, "resize", "true"), true);
        assertEquals(413, r.statusCode(), r.body());
        assertTrue(error(r).contains("20000x20000"), r.body());
    }

    @Test
    void givenAHeaderOf20000x20000_whenResizeIsNotAllowed_then400NamingTheExpectedSize() throws Exception {
        HttpResponse<String> r = post("/v1/classify", multipart(TestImages.pngHeaderOnly(20000, 20000)), true);
        assertEquals(400, r.statusCode(), r.body());
        assertTrue(error(r).contains("expects 28x28"), r.body());
    }

    @Test
    void givenABodyOverTheLimit_whenPosted_then413() throws Exception {
        HttpResponse<String> r = post("/v1/classify", multipart(new byte[100 * 1024]), true);
        assertEquals(413, r.statusCode(), r.body());
    }

    @Test
    void givenJsonWithBase64_whenClassified_thenAPrediction() throws Exception {
        String json = "{\"image\": \"data:image/png;base64," + Base64.getEncoder().encodeToString(png) + "\"}";
        HttpResponse<String> r = send(HttpRequest.newBuilder(uri("/v1/classify"))
                .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
        assertEquals(200, r.statusCode(), r.body());
        assertFalse(JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonObject("prediction")
                .get("className").getAsString().isBlank());
    }

    @Test
    void givenHealthAndPage_whenFetchedWithoutToken_thenServed() throws Exception {
        assertEquals(200, send(HttpRequest.newBuilder(uri("/healthz")).build()).statusCode());
        HttpResponse<String> page = send(HttpRequest.newBuilder(uri("/")).build());
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("/v1/purify"), "the page calls the API");
        HttpResponse<String> api = send(HttpRequest.newBuilder(uri("/openapi.json")).build());
        assertTrue(JsonParser.parseString(api.body()).getAsJsonObject().getAsJsonObject("paths").has("/v1/localize"));
    }

    private HttpResponse<String> post(String path, Multipart body, boolean withToken) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).header("Content-Type", body.contentType())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.bytes()));
        if (withToken) {
            b.header("Authorization", "Bearer " + TOKEN);
        }
        return send(b.build());
    }

    private HttpResponse<String> send(HttpRequest request) throws Exception {
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    private static String error(HttpResponse<String> r) {
        return JsonParser.parseString(r.body()).getAsJsonObject().get("error").getAsString();
    }

    record Multipart(String contentType, byte[] bytes) {}

    /** A form with the file field "image" and the given name/value pairs. */
    private static Multipart multipart(byte[] image, String... fields) throws IOException {
        String boundary = "lustra-test-boundary";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < fields.length; i += 2) {
            out.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + fields[i] + "\"\r\n\r\n"
                    + fields[i + 1] + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        out.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.png\"\r\n"
                + "Content-Type: image/png\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        out.write(image);
        out.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return new Multipart("multipart/form-data; boundary=" + boundary, out.toByteArray());
    }

    @Test
    void givenMoreWorkersTimesThreadsThanCores_whenSizing_thenRefused() {
        assertEquals(2, ServeOptions.engineThreads(1, 2, null));
        assertEquals(1, ServeOptions.engineThreads(2, 2, null));
        assertEquals(1, ServeOptions.engineThreads(2, 2, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ServeOptions.engineThreads(2, 2, 2));
        assertTrue(e.getMessage().contains("needs 4 cores"), e.getMessage());
    }
}
