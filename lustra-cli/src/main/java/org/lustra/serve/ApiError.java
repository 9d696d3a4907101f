package org.lustra.serve;

/** A request the service refuses: an HTTP status and one sentence for the client, sent as {@code {"error": …}}. */
final class ApiError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final Integer retryAfterSeconds;

    ApiError(int status, String message) {
        this(status, message, null);
    }

    ApiError(int status, String message, Integer retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    int status() {
        return status;
    }

    /** Seconds for a {@code Retry-After} header (503 when the queue is full), or {@code null}. */
    Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
