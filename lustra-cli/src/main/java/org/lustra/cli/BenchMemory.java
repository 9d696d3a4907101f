package org.lustra.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Does a long diffusion chain need more memory than a short one? The peak RSS of {@code lustra sample} at 20 and at
 * 1000 DDIM steps (classifier-free guidance, so each step is one UNet call on twice the images), each in a fresh JVM
 * started with this JVM's options and class path, so the launcher's heap defaults (and any {@code LUSTRA_JAVA_OPTS})
 * apply. A fresh process, because in this one the earlier lines have already grown the heap and the C allocator's
 * pools. Issue 10's bar: the ratio within 1.10.
 *
 * <p>The child's peak is its kernel high-water mark (VmHWM of /proc/PID/status), read every 20 ms until it exits;
 * the last read precedes the exit by at most that, and only the PNG is written after the chain.
 */
final class BenchMemory {
    static final int SHORT = 20;
    static final int LONG = 1000;

    private BenchMemory() {}

    /** Runs both chains and adds three lines (each peak, then the ratio); returns them for the JSON. */
    static Map<String, Object> run(BenchReport report, boolean quick) {
        int images = quick ? 1 : 8;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("command", "lustra sample --prompt '' -n " + images + " --guidance 3 --steps S");
        out.put("method", "peak RSS (VmHWM) of a fresh JVM with this JVM's options, polled every 20 ms");
        double[] peak = new double[2];
        int[] steps = {SHORT, LONG};
        for (int i = 0; i < 2; i++) {
            long t0 = System.nanoTime();
            peak[i] = childPeakMb(images, steps[i]);
            double sec = (System.nanoTime() - t0) / 1e9;
            report.add("memory", "sample chain", steps[i] + " DDIM steps, -n " + images + " (CFG batch "
                    + 2 * images + ")", peak[i], "MB peak", String.format(Locale.ROOT, "fresh JVM; %.0f s", sec));
            out.put("peak_rss_mb_" + steps[i] + "_steps", peak[i]);
        }
        double ratio = peak[1] / peak[0];
        report.add("memory", "chain peak RSS ratio", LONG + " / " + SHORT + " steps", ratio, "x",
                "issue 10 bar: <= 1.10 under the launcher's default heap");
        out.put("ratio_long_over_short", ratio);
        return out;
    }

    /** The child's peak RSS in MB, or NaN when it could not be run or measured (the reason is printed). */
    private static double childPeakMb(int images, int steps) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("lustra-bench-memory");
            Path log = dir.resolve("child.log");
            Process p = new ProcessBuilder(command(dir.resolve("sample.png"), images, steps))
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            Path status = Path.of("/proc", Long.toString(p.pid()), "status");
            double peak = Double.NaN;
            while (p.isAlive()) {
                double hwm = hwmMb(status);
                if (!Double.isNaN(hwm)) {
                    peak = Double.isNaN(peak) ? hwm : Math.max(peak, hwm);
                }
                Thread.sleep(20);
            }
            if (p.exitValue() != 0) {
                List<String> lines = Files.readAllLines(log);
                System.err.println("bench: the " + steps + "-step sample child failed (exit " + p.exitValue()
                        + "): " + (lines.isEmpty() ? "no output" : lines.get(lines.size() - 1)));
                return Double.NaN;
            }
            return peak;
        } catch (IOException e) {
            System.err.println("bench: could not run the sample child: " + e.getMessage());
            return Double.NaN;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Double.NaN;
        } finally {
            deleteQuietly(dir);
        }
    }

    /** This JVM's launch (java binary, JVM options, class path) running {@code sample}. */
    static List<String> command(Path png, int images, int steps) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(List.of("sample", "--prompt", "", "-n", Integer.toString(images), "--guidance", "3", "--steps",
                Integer.toString(steps), "--out", png.toString()));
        return cmd;
    }

    private static double hwmMb(Path status) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.substring(6).replaceAll("\\D", "")) / 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            return Double.NaN; // not started yet, already gone, or no /proc
        }
        return Double.NaN;
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // a temporary folder left behind is harmless
        }
    }
}
