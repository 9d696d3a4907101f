package org.lustra.cli;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.lustra.defense.DefenseSpec;
import org.lustra.serve.LustraServer;
import org.lustra.serve.ServeOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Run the HTTP service and its web page: POST /v1/purify, /v1/classify and /v1/localize "
                + "(multipart upload, JSON with a base64 image, or raw image bytes), GET /healthz, GET /v1/models, "
                + "GET /openapi.json, and a page at / to drop an image and compare predictions before and after.",
            "It listens on 127.0.0.1 unless --host says otherwise. Body size and image size are checked from the "
                    + "headers before anything is decoded; when the queue is full the answer is 503 with Retry-After.",
            "Ctrl-C stops it."})
final class ServeCommand implements Callable<Integer> {
    static final String TOKEN_ENV = "LUSTRA_TOKEN";
    private static final String THREADS = "ai.djl.pytorch.num_threads";

    @Option(names = "--host", defaultValue = ServeOptions.LOOPBACK,
            description = "Address to listen on (default ${DEFAULT-VALUE}); 0.0.0.0 exposes the service to the "
                    + "network.")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "Port (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--token", description = "Bearer token required on /v1/ requests (default: $" + TOKEN_ENV
            + ", else none).")
    String token;

    @Option(names = {"--classifier", "--model"}, defaultValue = "classifier-resnet",
            description = "The protected classifier: a shipped model name, a model folder, or a TorchScript file "
                    + "with its JSON (default ${DEFAULT-VALUE}).")
    String classifier;

    @Option(names = "--defense", defaultValue = DefenseSpec.DIFFENDER_DEFAULT,
            description = "Defence used when a request names none (default ${DEFAULT-VALUE}).")
    String defense;

    @Option(names = "--workers", defaultValue = "1", description = "Worker threads running the models; "
            + "workers times engine threads never exceeds the cores (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--queue", defaultValue = "8", description = "Requests that may wait for a worker before the "
            + "server answers 503 (default ${DEFAULT-VALUE}).")
    int queue;

    @Option(names = "--max-body", defaultValue = "4194304", description = "Largest request body in bytes "
            + "(default ${DEFAULT-VALUE}).")
    long maxBody;

    @Option(names = "--max-pixels", defaultValue = "4194304", description = "Largest image in pixels, width times "
            + "height, for images that are resized (default ${DEFAULT-VALUE}).")
    long maxPixels;

    @Override
    public Integer call() throws InterruptedException {
        String t = token != null ? token : System.getenv(TOKEN_ENV);
        ServeOptions options = new ServeOptions(host, port, t, classifier, defense, workers, queue, maxBody, maxPixels);
        int cores = Runtime.getRuntime().availableProcessors();
        String configured = System.getProperty(THREADS);
        int threads = ServeOptions.engineThreads(workers, cores, configured == null ? null : parse(configured));
        // read by the engine when it starts, which is below (the first model load)
        System.setProperty(THREADS, Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", System.getProperty(
                "ai.djl.pytorch.num_interop_threads", "1"));
        if (options.token() == null && !isLoopback(host)) {
            System.err.println("lustra: warning: listening on " + host + " without --token; anyone who can reach "
                    + "this port can use the service.");
        }
        LustraServer server = LustraServer.start(options);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }));
        System.out.printf("Lustra is serving http://%s:%d/ (classifier %s, default defence %s, %d worker(s) x %d "
                + "engine thread(s), queue %d%s). Ctrl-C stops it.%n", host.contains(":") ? "[" + host + "]" : host,
                server.port(), classifier, defense, workers, threads, queue,
                options.token() == null ? "" : ", token required");
        stopped.await();
        return Main.OK;
    }

    private static int parse(String v) {
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid " + THREADS + "=" + v + ": must be a whole number.");
        }
    }

    private static boolean isLoopback(String h) {
        return h.equals("localhost") || h.startsWith("127.") || h.equals("::1");
    }
}
