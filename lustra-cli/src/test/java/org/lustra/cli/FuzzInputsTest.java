package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.data.ImageFiles;
import org.lustra.data.Subsets;
import org.lustra.serve.LustraServer;
import org.lustra.serve.ServeOptions;
import org.lustra.util.Json;
import org.lustra.util.LustraHome;

/**
 * Over 300 mutated PNG, JPEG, GIF and BMP files (seeded bit flips, truncations, overwritten bytes, huge header sizes)
 * and decompression bombs, through the command line's reading and commands and through the HTTP service: no crash, no
 * hang (each file has a deadline), every file either processed or refused in one sentence (a 4xx JSON error over
 * HTTP), and the service still answers afterwards.
 */
class FuzzInputsTest {
    private static final String MODEL = "classifier-resnet";
    private static final long SEED = 14;
    /** Mutants per seed file: 9 seed files × 36 = 324, plus the bombs. */
    private static final int PER_SEED = 36;
    private static final Duration PER_FILE = Duration.ofSeconds(20);

    @TempDir
    static Path tmp;
    static Path folder;
    static List<Path> files;
    /** Daemon threads, so a decoder that hangs fails its file instead of keeping the JVM alive. */
    static final ExecutorService WORK = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "fuzz");
        t.setDaemon(true);
        return t;
    });

    @BeforeAll
    static void writeFiles() throws Exception {
        List<MutatedImages.Sample> seeds = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            float[] x = Subsets.load("eval512").imageFloats(i);
            for (String format : List.of("png", "jpg", "gif", "bmp")) {
                seeds.add(new MutatedImages.Sample("eval" + i + "." + format, MutatedImages.encode(
                        ImageFiles.toImage(x, 1, 28, 28), format)));
            }
        }
        Path panel = LustraHome.root().resolve("docs/results/classic-defences/examples/none_lavan-0.050_none.png");
        seeds.add(new MutatedImages.Sample("panel.png", Files.readAllBytes(panel)));
        List<MutatedImages.Sample> all = new ArrayList<>(MutatedImages.mutants(seeds, PER_SEED,
                new SplittableRandom(SEED)));
        all.add(new MutatedImages.Sample("bomb-8192.png", MutatedImages.pngBomb(8192)));
        all.add(new MutatedImages.Sample("bomb-header-20000.png", TestImages.pngHeaderOnly(20000, 20000)));
        all.add(new MutatedImages.Sample("bomb-65535.gif", MutatedImages.gifBomb()));
        all.add(new MutatedImages.Sample("empty.png", new byte[0]));
        folder = Files.createDirectories(tmp.resolve("fuzz"));
        files = new ArrayList<>();
        for (MutatedImages.Sample s : all) {
            files.add(Files.write(folder.resolve(s.name()), s.bytes()));
        }
        assertTrue(files.size() >= 300, files.size() + " files");
    }

    @AfterAll
    static void stopWork() {
        WORK.shutdownNow();
    }

    @Test
    void givenMutatedFiles_whenReadForTheClassifier_thenEachGivesPixelsOrOneSentence() {
        int refused = 0;
        for (int i = 0; i < files.size(); i++) {
            Path f = files.get(i);
            boolean resize = i % 2 == 1;
            Common.Images images = within(f.getFileName().toString(), () -> Common.readForClassifier(MODEL,
                    List.of(new Common.Input(f, f.getFileName().toString())), resize));
            if (images.pixels()[0] == null) {
                refused++;
                assertOneSentence(f.getFileName().toString(), images.skipped().get(0).reason());
            } else {
                assertEquals(784, images.pixels()[0].length, f.toString());
            }
        }
        assertTrue(refused > files.size() / 4, "most mutants are broken: " + refused + " refused");
    }

    @Test
    void givenTheFolder_whenClassified_thenEveryBadFileIsListedAndTheRestClassified() {
        int readable = Common.readForClassifier(MODEL, Common.expandImages(List.of(folder)), false).readable();
        CliErrorsTest.Run r = within("classify", () -> CliErrorsTest.run("classify", folder.toString(), "--json"));
        assertEquals(Main.PARTIAL, r.code(), r.err());
        assertSkippedLines(r.err(), files.size() - readable);
        @SuppressWarnings("unchecked")
        Map<String, Object> json = Json.GSON.fromJson(r.out(), Map.class);
        assertEquals(readable, ((List<?>) json.get("results")).size());
    }

    @Test
    void givenTheFolder_whenPurifiedWithJpeg_thenEveryBadFileIsListedAndTheRestWritten() {
        int readable = Common.readForClassifier(MODEL, Common.expandImages(List.of(folder)), true).readable();
        Path out = tmp.resolve("purified");
        CliErrorsTest.Run r = within("purify", () -> CliErrorsTest.run("purify", folder.toString(), "--out",
                out.toString(), "--defense", "jpeg:75", "--resize"));
        assertEquals(Main.PARTIAL, r.code(), r.err());
        assertSkippedLines(r.err(), files.size() - readable);
        assertTrue(r.out().contains("Wrote " + readable + " purified"), r.out());
    }

    @Test
    void givenMutatedUploads_whenPosted_thenEachIs200Or4xxJsonAndTheServerKeepsServing() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (LustraServer server = LustraServer.start(ServeOptions.defaults().withPort(0).withDefense("jpeg:75")
                .withLimits(1 << 20, 1 << 20))) {
            int ok = 0;
            for (int i = 0; i < files.size(); i++) {
                Path f = files.get(i);
                String endpoint = i % 2 == 0 ? "/v1/purify" : "/v1/classify";
                boolean resize = (i / 2) % 2 == 1;
                HttpRequest req = HttpRequest.newBuilder(uri(server, endpoint + "?resize=" + resize))
                        .timeout(PER_FILE).header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
                        .POST(HttpRequest.BodyPublishers.ofByteArray(multipart(f))).build();
                HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
                ok += answered(f.getFileName() + " " + endpoint, r) ? 1 : 0;
            }
            assertTrue(ok > 0 && ok < files.size(), ok + " of " + files.size() + " uploads were images");
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(uri(server, "/healthz")).timeout(PER_FILE)
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), health.body());
        }
    }

    /** True for a 200 with predictions; otherwise asserts a 4xx JSON error of one sentence. */
    private static boolean answered(String what, HttpResponse<String> r) {
        JsonElement body = JsonParser.parseString(r.body());
        assertTrue(body.isJsonObject(), what + ": " + r.body());
        JsonObject o = body.getAsJsonObject();
        if (r.statusCode() == 200) {
            assertTrue(o.has("after") || o.has("prediction"), what + ": " + r.body());
            return true;
        }
        assertTrue(r.statusCode() >= 400 && r.statusCode() < 500, what + ": status " + r.statusCode() + " "
                + r.body());
        assertEquals(r.statusCode(), o.get("status").getAsInt(), what);
        assertOneSentence(what, o.get("error").getAsString());
        return false;
    }

    private static final String BOUNDARY = "lustra-fuzz-boundary";

    private static byte[] multipart(Path f) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\""
                + f.getFileName() + "\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8));
        out.write(Files.readAllBytes(f));
        out.write(("\r\n--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    private static URI uri(LustraServer server, String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    /** Every stderr line is "lustra: skipped FILE: reason" with a one-sentence reason, {@code expected} of them. */
    private static void assertSkippedLines(String err, int expected) {
        List<String> lines = err.lines().filter(l -> l.startsWith("lustra: ")).toList();
        assertEquals(expected, lines.size(), err);
        for (String l : lines) {
            assertTrue(l.startsWith("lustra: skipped " + folder), l);
            assertOneSentence(l, l.substring(l.indexOf(": ", "lustra: skipped ".length() + 1) + 2));
        }
        assertFalse(err.contains("Exception:") || err.contains("\tat "), "no stack trace: " + err);
    }

    /** One clear sentence: one line, not empty, ends with a full stop, no "internal error". */
    static void assertOneSentence(String what, String message) {
        assertNotNull(message, what);
        assertFalse(message.isBlank(), what);
        assertFalse(message.contains("\n") || message.contains("\r"), what + ": " + message);
        assertTrue(message.length() < 400, what + ": " + message);
        assertTrue(message.endsWith("."), what + ": " + message);
        assertFalse(message.contains("internal error"), what + ": " + message);
    }

    /** Runs {@code work} with the per-file deadline; a hang fails the test naming {@code what}. */
    private static <T> T within(String what, Callable<T> work) {
        Future<T> f = WORK.submit(work);
        try {
            return f.get(what.equals("classify") || what.equals("purify") ? 120 : PER_FILE.toSeconds(),
                    TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            return fail(what + " did not finish in time (a decoder hang?)");
        } catch (Exception e) {
            return fail(what + " threw " + e.getCause(), e);
        }
    }
}
