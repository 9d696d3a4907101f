package org.lustra.nn;

import ai.djl.engine.Engine;
import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Makes PyTorch's native log obey {@code TORCH_CPP_LOG_LEVEL} (the launcher sets ERROR) and silences a warning PyTorch
 * 2.7.1 repeats on every small convolution when it runs on one thread.
 *
 * <p>{@code TORCH_CPP_LOG_LEVEL} is read only by Python's start-up, never under DJL, so a 600-character deprecation
 * warning ({@code AutoNonVariableTypeMode}, from DJL's JNI on the first inference) reached every model-loading command;
 * here the level is written into {@code FLAGS_caffe2_log_level} of {@code libc10.so}, the variable that start-up sets.
 *
 * <p>NNPACK: with one intra-op
 * thread, a 1×1 convolution of a batch below 16 is not given to oneDNN, and the next candidate check calls
 * {@code at::_nnpack_available()} before looking at the batch size; on a CPU NNPACK does not support, that call logs
 * "Could not initialize NNPACK! Reason: Unsupported hardware." every time (measured: 10,260 lines in one
 * {@code lustra demo} at one thread, 105 in a 20-image {@code purify}). NNPACK is never used on such a CPU, so turning it
 * off ({@code at::globalContext().setUserEnabledNNPACK(false)}, the switch {@code torch.backends.nnpack} sets) changes
 * no number, whatever the log level.
 *
 * <p>DJL exposes neither switch, so both go through JNA into the loaded libraries, found in {@code /proc/self/maps}
 * (Linux, the platform of the shipped natives); elsewhere, or if a symbol is missing, nothing happens.
 */
public final class NativeWarnings {
    private static boolean done;

    private NativeWarnings() {}

    /**
     * Loads the engine if needed, applies {@code TORCH_CPP_LOG_LEVEL} and turns NNPACK off (once per JVM). Call it
     * before the first inference: the deprecation warning comes with that.
     */
    public static synchronized void quiet() {
        if (done) {
            return;
        }
        done = true;
        Engine.getInstance();
        try {
            Integer level = level(System.getenv("TORCH_CPP_LOG_LEVEL"));
            Optional<Path> c10 = loaded("libc10.so");
            if (level != null && c10.isPresent()) {
                NativeLibrary.getInstance(c10.get().toString()).getGlobalVariableAddress("FLAGS_caffe2_log_level")
                        .setInt(0, level);
            }
            Optional<Path> torch = loaded("libtorch_cpu.so");
            if (torch.isPresent()) {
                NativeLibrary lib = NativeLibrary.getInstance(torch.get().toString());
                Pointer context = lib.getFunction("_ZN2at13globalContextEv").invokePointer(new Object[0]);
                Function setNnpack = lib.getFunction("_ZN2at7Context20setUserEnabledNNPACKEb");
                setNnpack.invokeVoid(new Object[] {context, Boolean.FALSE});
            }
        } catch (RuntimeException | LinkageError e) {
            // cosmetic: without it the warnings stay, nothing else changes
        }
    }

    /** c10's severities, as TORCH_CPP_LOG_LEVEL names them (INFO 0, WARNING 1, ERROR 2, FATAL 3) or as digits. */
    static Integer level(String value) {
        if (value == null) {
            return null;
        }
        return switch (value.trim().toUpperCase(Locale.ROOT)) {
            case "0", "INFO" -> 0;
            case "1", "WARNING" -> 1;
            case "2", "ERROR" -> 2;
            case "3", "FATAL" -> 3;
            default -> null;
        };
    }

    private static Optional<Path> loaded(String name) {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) {
            return Optional.empty();
        }
        try (Stream<String> lines = Files.lines(maps)) {
            return lines.map(l -> l.substring(l.lastIndexOf(' ') + 1)).filter(p -> p.endsWith("/" + name))
                    .findFirst().map(Path::of);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
