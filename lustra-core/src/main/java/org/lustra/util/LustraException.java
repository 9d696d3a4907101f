package org.lustra.util;

/**
 * A failure the user can act on. The message is one sentence that names what is wrong and what to do;
 * the CLI prints it without a stack trace and exits non-zero.
 */
public class LustraException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LustraException(String message) {
        super(message);
    }

    public LustraException(String message, Throwable cause) {
        super(message, cause);
    }
}
