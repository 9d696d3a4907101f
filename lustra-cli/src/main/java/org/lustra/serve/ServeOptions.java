package org.lustra.serve;

import org.lustra.defense.DefenseSpec;

/**
 * Settings of {@code lustra serve}, validated on construction.
 *
 * @param host address to bind; loopback by default, because the service runs models on uploads
 * @param port TCP port, 0 for an ephemeral one (tests)
 * @param token bearer token every {@code /v1/} request must carry, or {@code null} for none
 * @param classifier the protected classifier (a shipped model name or a model folder)
 * @param defense the defence used when a request names none (and shown first on the page)
 * @param workers purification threads; each runs one request at a time on the shared models
 * @param queue requests that may wait for a worker; one more is answered 503 with Retry-After
 * @param maxBodyBytes largest request body, checked from Content-Length before reading
 * @param maxPixels largest image (width × height), checked from the image header before decoding
 */
public record ServeOptions(String host, int port, String token, String classifier, String defense, int workers,
        int queue, long maxBodyBytes, long maxPixels) {

    public static final String LOOPBACK = "127.0.0.1";

    public ServeOptions {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("Invalid port " + port + ": must be in 0..65535.");
        }
        if (workers < 1) {
            throw new IllegalArgumentException("Invalid --workers " + workers + ": must be at least 1.");
        }
        if (queue < 0) {
            throw new IllegalArgumentException("Invalid --queue " + queue + ": must be 0 or more.");
        }
        if (maxBodyBytes < 1024) {
            throw new IllegalArgumentException("Invalid --max-body " + maxBodyBytes + ": must be at least 1024 bytes.");
        }
        if (maxPixels < 1) {
            throw new IllegalArgumentException("Invalid --max-pixels " + maxPixels + ": must be at least 1.");
        }
        if (token != null && token.isBlank()) {
            token = null;
        }
        DefenseSpec.parse(defense); // a bad default is a start-up error, not a surprise on the first request
    }

    /** Loopback, port 8080, no token, classifier-resnet with DIFFender, 1 worker, 8 queued, 4 MiB, 4 Mpx. */
    public static ServeOptions defaults() {
        return new ServeOptions(LOOPBACK, 8080, null, "classifier-resnet", DefenseSpec.DIFFENDER_DEFAULT, 1, 8, 4L << 20, 2048L * 2048L);
    }

    public ServeOptions withPort(int p) {
        return new ServeOptions(host, p, token, classifier, defense, workers, queue, maxBodyBytes, maxPixels);
    }

    public ServeOptions withToken(String t) {
        return new ServeOptions(host, port, t, classifier, defense, workers, queue, maxBodyBytes, maxPixels);
    }

    public ServeOptions withDefense(String d) {
        return new ServeOptions(host, port, token, classifier, d, workers, queue, maxBodyBytes, maxPixels);
    }

    public ServeOptions withLimits(long body, long pixels) {
        return new ServeOptions(host, port, token, classifier, defense, workers, queue, body, pixels);
    }

    /**
     * Engine (intra-op) threads per worker so that workers × threads ≤ cores: two PyTorch workers on two cores with
     * two threads each thrash (DJL-NOTES: 2 workers × 1 thread beat 1 × 2). {@code configured} is the value of
     * {@code ai.djl.pytorch.num_threads} if set; a configuration that oversubscribes is refused in one sentence.
     */
    public static int engineThreads(int workers, int cores, Integer configured) {
        if (workers > cores) {
            throw new IllegalArgumentException("--workers " + workers + " is more than this machine's " + cores
                    + " cores; use at most " + cores + ".");
        }
        if (configured == null) {
            return Math.max(1, cores / workers);
        }
        if (configured < 1 || (long) configured * workers > cores) {
            throw new IllegalArgumentException("--workers " + workers + " with ai.djl.pytorch.num_threads="
                    + configured + " needs " + (long) configured * workers + " cores, this machine has " + cores
                    + "; lower --workers or the thread count.");
        }
        return configured;
    }
}
