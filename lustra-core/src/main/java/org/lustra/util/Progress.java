package org.lustra.util;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress line for long work: position, rate, ETA and free-form metrics. On a terminal it redraws one line;
 * in a log (no console) it prints a new line at most every {@code intervalMillis}.
 */
public final class Progress {
    private final String label;
    private final long total;
    private final String unit;
    private final PrintStream out;
    private final boolean interactive;
    private final long intervalMillis;
    private final long startNanos = System.nanoTime();
    private long startCount;
    private long lastPrint;
    private boolean printedAny;

    public Progress(String label, long total, String unit) {
        this(label, total, unit, System.err, System.console() != null, System.console() != null ? 250 : 10_000);
    }

    public Progress(String label, long total, String unit, PrintStream out, boolean interactive, long intervalMillis) {
        this.label = label;
        this.total = total;
        this.unit = unit;
        this.out = out;
        this.interactive = interactive;
        this.intervalMillis = intervalMillis;
    }

    /** Marks the count the rate is measured from (for a resumed job, the work done before this run). */
    public void startAt(long count) {
        this.startCount = count;
    }

    /** Reports {@code done} units finished; prints if the interval has passed. */
    public void update(long done, String metrics) {
        long now = System.currentTimeMillis();
        if (now - lastPrint < intervalMillis && done < total) {
            return;
        }
        lastPrint = now;
        out.print((interactive ? "\r" : "") + line(done, metrics) + (interactive ? "\033[K" : "\n"));
        out.flush();
        printedAny = true;
    }

    /** Prints the final line unconditionally. */
    public void finish(long done, String metrics) {
        lastPrint = 0;
        out.print((interactive ? "\r" : "") + line(done, metrics) + (interactive ? "\033[K\n" : "\n"));
        out.flush();
    }

    String line(long done, String metrics) {
        double seconds = Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
        double rate = (done - startCount) / seconds;
        String eta = rate > 0 && total > done ? formatDuration((total - done) / rate) : "--:--";
        return String.format(Locale.ROOT, "%s %d/%d %s (%.0f%%)  %.1f %s/s  elapsed %s  ETA %s%s",
                label, done, total, unit, 100.0 * done / Math.max(1, total), rate, unit,
                formatDuration(seconds), eta, metrics == null || metrics.isEmpty() ? "" : "  " + metrics);
    }

    public boolean printedAny() {
        return printedAny;
    }

    public static String formatDuration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%02d:%02d", s / 60, s % 60);
    }
}
