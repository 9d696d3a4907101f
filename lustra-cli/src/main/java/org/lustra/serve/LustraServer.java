package org.lustra.serve;

import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.config.SizeUnit;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import org.lustra.app.Workbench;
import org.lustra.data.ImageDecoder;
import org.lustra.defense.DefenseSpec;
import org.lustra.util.LustraException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running service: the shared models ({@link Workbench}), the workers, and Javalin with the routes, the token
 * check, the body limit and the JSON errors. Every refusal is a 4xx with {@code {"error": "<one sentence>"}}; an
 * unexpected failure is a 500 with the same shape, logged, and the server keeps serving.
 */
public final class LustraServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LustraServer.class);
    /** Longest a request may wait for and run on a worker. */
    private static final long TIMEOUT_SECONDS = 300;

    private final Workbench bench;
    private final WorkerPool pool;
    private final Javalin app;

    private LustraServer(Workbench bench, WorkerPool pool, Javalin app) {
        this.bench = bench;
        this.pool = pool;
        this.app = app;
    }

    /**
     * Loads the classifier and the default defence (on a worker, so its models are ready before the first request),
     * then starts listening; {@link #port()} tells the port when {@code options.port()} is 0.
     */
    public static LustraServer start(ServeOptions options) {
        Workbench bench = Workbench.open(options.classifier());
        WorkerPool pool = new WorkerPool(options.workers(), options.queue(), TIMEOUT_SECONDS);
        try {
            DefenseSpec spec = DefenseSpec.parse(options.defense());
            pool.call(() -> bench.purifier(spec));
            Api api = new Api(bench, pool, options);
            Map<String, byte[]> pages = Map.of("index.html", resource("index.html"), "openapi.json",
                    resource("openapi.json"));
            Javalin app = Javalin.create(c -> configure(c, options, api, pages));
            app.start(options.host(), options.port());
            return new LustraServer(bench, pool, app);
        } catch (RuntimeException e) {
            pool.close();
            bench.close();
            throw e;
        } catch (Exception e) {
            pool.close();
            bench.close();
            throw new IllegalStateException("Could not start the server: " + e, e);
        }
    }

    public int port() {
        return app.port();
    }

    @Override
    public void close() {
        try {
            app.stop();
        } finally {
            pool.close();
            bench.close();
        }
    }

    private static void configure(JavalinConfig c, ServeOptions o, Api api, Map<String, byte[]> pages) {
        c.startup.showJavalinBanner = false;
        c.startup.showOldJavalinVersionWarning = false;
        c.jsonMapper(new GsonMapper());
        c.http.maxRequestSize = o.maxBodyBytes();
        c.jetty.multipartConfig.maxFileSize(o.maxBodyBytes(), SizeUnit.BYTES);
        c.jetty.multipartConfig.maxTotalRequestSize(o.maxBodyBytes(), SizeUnit.BYTES);
        int inMemory = (int) Math.min(Integer.MAX_VALUE, o.maxBodyBytes()); // uploads never touch the disk
        c.jetty.multipartConfig.maxInMemoryFileSize(inMemory, SizeUnit.BYTES);
        c.routes.before(ctx -> {
            ctx.header("X-Content-Type-Options", "nosniff");
            ctx.header("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; "
                    + "style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'");
        });
        c.routes.before("/v1/*", ctx -> {
            authorize(ctx, o.token());
            limitBody(ctx, o.maxBodyBytes());
        });
        c.routes.get("/", ctx -> ctx.contentType("text/html; charset=utf-8").result(pages.get("index.html")));
        c.routes.get("/openapi.json", ctx -> ctx.contentType("application/json").result(pages.get("openapi.json")));
        c.routes.get("/healthz", api::healthz);
        c.routes.get("/v1/models", api::models);
        c.routes.post("/v1/classify", api::classify);
        c.routes.post("/v1/purify", api::purify);
        c.routes.post("/v1/localize", api::localize);
        c.routes.exception(ApiError.class, (e, ctx) -> {
            if (e.retryAfterSeconds() != null) {
                ctx.header("Retry-After", Integer.toString(e.retryAfterSeconds()));
            }
            error(ctx, e.status(), e.getMessage());
        });
        c.routes.exception(ImageDecoder.TooLargeException.class, (e, ctx) -> error(ctx, 413, e.getMessage()));
        c.routes.exception(LustraException.class, (e, ctx) -> error(ctx, 400, e.getMessage()));
        c.routes.exception(IllegalArgumentException.class, (e, ctx) -> error(ctx, 400, e.getMessage()));
        c.routes.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(),
                e.getStatus() == 413 ? "The request body is larger than this server accepts; send a smaller image."
                        : e.getMessage()));
        c.routes.exception(Exception.class, (e, ctx) -> {
            LOG.error("request {} {} failed", ctx.method(), ctx.path(), e);
            error(ctx, 500, "Internal error (" + e.getClass().getSimpleName() + "); the server logged it and keeps "
                    + "serving.");
        });
        c.routes.error(404, ctx -> error(ctx, 404, "No endpoint " + ctx.method() + " " + ctx.path()
                + "; see /openapi.json."));
        c.routes.error(405, ctx -> error(ctx, 405, "Method " + ctx.method() + " is not allowed on " + ctx.path()
                + "; see /openapi.json."));
    }

    /** Constant-time comparison of the bearer token, so its bytes cannot be guessed from response times. */
    private static void authorize(Context ctx, String token) {
        if (token == null) {
            return;
        }
        String h = ctx.header("Authorization");
        String given = h != null && h.regionMatches(true, 0, "Bearer ", 0, 7) ? h.substring(7).trim() : "";
        if (!MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8))) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw new ApiError(401, "This server needs a token; send the header 'Authorization: Bearer <token>' with "
                    + "the token lustra serve was started with.");
        }
    }

    /** Refuses a body from its Content-Length, before any byte of it is read. */
    private static void limitBody(Context ctx, long max) {
        if (!ctx.method().name().equals("POST")) {
            return;
        }
        long length = ctx.req().getContentLengthLong();
        if (length < 0) {
            throw new ApiError(411, "Send a Content-Length header; bodies of unknown length are not accepted.");
        }
        if (length > max) {
            throw new ApiError(413, "The request body is " + length + " bytes, more than the limit of " + max
                    + " bytes; send a smaller image.");
        }
    }

    private static void error(Context ctx, int status, String message) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", message);
        m.put("status", status);
        ctx.status(status).json(m);
    }

    private static byte[] resource(String name) {
        try (InputStream in = LustraServer.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("Resource org/lustra/serve/" + name + " is missing from the jar.");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
