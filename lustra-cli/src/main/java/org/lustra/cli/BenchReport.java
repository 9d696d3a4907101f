package org.lustra.cli;

import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The lines of one {@code lustra bench} run, printed as they are measured. Each line carries the process's peak RSS
 * (VmHWM) after it and how much that peak grew during the line, so a line that needs no more memory than an earlier
 * one shows +0. (The mark can be reset, via /proc/self/clear_refs; {@link BenchHetero} does so for its own lines,
 * which need a peak per line to compare. The other lines keep the process-wide peak their JSON has always reported.)
 */
final class BenchReport {

    /**
     * One measured line.
     *
     * @param peakRssMb the process's peak resident set (VmHWM) after the line, MB (NaN where /proc is missing)
     * @param peakRssIncreaseMb how much that peak grew during the line, MB
     */
    record Line(String section, String what, String setting, double value, String unit, String note,
            double peakRssMb, double peakRssIncreaseMb) {}

    private final PrintStream out;
    private final List<Line> lines = new ArrayList<>();
    private double lastPeak;

    BenchReport(PrintStream out) {
        this.out = out;
        this.lastPeak = peakRssMb();
    }

    void printHeader() {
        out.printf("%-16s %-36s %10s  %-9s %9s %7s  %s%n", "what", "setting", "value", "unit", "peak RSS", "+MB",
                "note");
    }

    /** Records and prints one line, with the peak RSS as it stands now. */
    Line add(String section, String what, String setting, double value, String unit, String note) {
        double peak = peakRssMb();
        Line line = new Line(section, what, setting, value, unit, note, peak, peak - lastPeak);
        lastPeak = peak;
        lines.add(line);
        out.printf(Locale.ROOT, "%-16s %-36s %10s  %-9s %9s %7s  %s%n", what, setting, number(value), unit,
                Double.isNaN(peak) ? "n/a" : String.format(Locale.ROOT, "%.0f MB", peak),
                Double.isNaN(peak) ? "" : String.format(Locale.ROOT, "%+.0f", line.peakRssIncreaseMb()), note);
        out.flush();
        return line;
    }

    /** A line of its own (a section title or a conclusion), not recorded as a measurement. */
    void say(String text) {
        out.println(text);
        out.flush();
    }

    List<Line> lines() {
        return List.copyOf(lines);
    }

    static String number(double v) {
        if (Double.isNaN(v)) {
            return "–";
        }
        return String.format(Locale.ROOT, Math.abs(v) < 10 ? "%.2f" : "%.1f", v);
    }

    /** The process's resident-set high-water mark (VmHWM), MB; NaN where /proc/self/status is not available. */
    static double peakRssMb() {
        return statusMb("VmHWM:");
    }

    /** The process's resident set now (VmRSS), MB; NaN where /proc/self/status is not available. */
    static double rssMb() {
        return statusMb("VmRSS:");
    }

    private static double statusMb(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.substring(field.length()).replaceAll("\\D", "")) / 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }

    /** The 1, 5 and 15 minute load averages, or "n/a": other work on the cores changes every number here. */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }

    /**
     * The engine's thread settings: the properties asked for and what the engine runs with. Lustra sets the counts
     * once, from system properties read when the engine starts, so comparing thread counts takes one run per setting
     * ({@code oneThread} says how).
     */
    static Map<String, Object> threads(String oneThread) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("num_threads_property", System.getProperty("ai.djl.pytorch.num_threads", "engine default"));
        m.put("num_interop_threads_property", System.getProperty("ai.djl.pytorch.num_interop_threads",
                "engine default"));
        try {
            m.put("intra_op_engine", JniUtils.getNumThreads());
            m.put("interop_engine", JniUtils.getNumInteropThreads());
        } catch (RuntimeException | LinkageError e) {
            m.put("intra_op_engine", "unknown");
        }
        m.put("cpus", Runtime.getRuntime().availableProcessors());
        m.put("one_thread", oneThread);
        return m;
    }
}
