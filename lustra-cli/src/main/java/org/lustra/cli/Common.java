package org.lustra.cli;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.lustra.data.ImageFiles;
import org.lustra.model.Classifiers;
import org.lustra.util.Files2;
import org.lustra.util.LustraException;

/** Input handling shared by the commands that read image files: folders, relative names, bad files. */
final class Common {
    private Common() {}

    /**
     * An input image and its path relative to the folder that holds all inputs ('/' separators): its name under
     * {@code --out}. Two inputs never share a relative path, so their outputs never overwrite each other.
     */
    record Input(Path file, String relative) {}

    /** An input that could not be read, with the one-sentence reason. */
    record Skipped(Input input, String reason) {}

    /**
     * Inputs read at a classifier's input shape: {@code pixels[i]} is input i as CHW floats in [0, 1], or {@code null}
     * when it was skipped (listed in {@code skipped}).
     */
    record Images(List<Input> inputs, float[][] pixels, List<Skipped> skipped, int channels, int size) {
        int readable() {
            return inputs.size() - skipped.size();
        }
    }

    /**
     * Reads every input at the input shape of classifier {@code model} (from its card or its TorchScript description,
     * before any engine starts, so a bad file costs nothing). A file that is not an image, or not the model's size
     * without {@code resize}, is skipped and listed; the size is checked from the header before decoding.
     */
    static Images readForClassifier(String model, List<Input> inputs, boolean resize) {
        Classifiers.Description d = Classifiers.describe(model);
        int ch = d.channels();
        int size = d.size();
        float[][] pixels = new float[inputs.size()][];
        List<Skipped> skipped = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            try {
                pixels[i] = ImageFiles.read(inputs.get(i).file(), ch, size, size, resize);
            } catch (LustraException e) {
                skipped.add(new Skipped(inputs.get(i), e.getMessage()));
            }
        }
        return new Images(inputs, pixels, List.copyOf(skipped), ch, size);
    }

    /**
     * Reports skipped inputs on stderr, one line each. When nothing could be read the command fails: with one input
     * its reason is the error (one sentence, exit code 1), with several a summary follows the lines.
     */
    static void reportSkipped(Images images) {
        if (images.readable() == 0 && images.inputs().size() == 1) {
            throw new LustraException(images.skipped().get(0).reason());
        }
        for (Skipped s : images.skipped()) {
            System.err.println("lustra: skipped " + s.input().file() + ": " + s.reason());
        }
        if (images.readable() == 0) {
            throw new LustraException("None of the " + images.inputs().size() + " inputs could be read (reasons "
                    + "above).");
        }
    }

    /** The exit code after {@link #reportSkipped}: {@link Main#PARTIAL} when some inputs were skipped. */
    static int exitCode(Images images) {
        return images.skipped().isEmpty() ? Main.OK : Main.PARTIAL;
    }

    /**
     * Expands folders (one level, image extensions only, sorted), checks that every path exists, drops duplicates
     * and names each input relative to the deepest folder that holds them all.
     */
    static List<Input> expandImages(List<Path> paths) {
        Set<Path> files = new LinkedHashSet<>();
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.list(p)) {
                    List<Path> imgs = s.filter(Files::isRegularFile).filter(ImageFiles::looksLikeImage).sorted()
                            .toList();
                    if (imgs.isEmpty()) {
                        throw new LustraException("Folder " + p + " holds no .png/.jpg/.bmp/.gif images.");
                    }
                    imgs.forEach(f -> files.add(f.toAbsolutePath().normalize()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            } else if (Files.isRegularFile(p)) {
                files.add(p.toAbsolutePath().normalize());
            } else {
                throw new LustraException("Input " + p + " does not exist.");
            }
        }
        Path common = commonFolder(files);
        List<Input> out = new ArrayList<>();
        for (Path f : files) {
            out.add(new Input(f, common.relativize(f).toString().replace(File.separatorChar, '/')));
        }
        return out;
    }

    private static Path commonFolder(Set<Path> files) {
        Path common = null;
        for (Path f : files) {
            Path dir = f.getParent();
            if (common == null) {
                common = dir;
            }
            while (!dir.startsWith(common)) {
                common = common.getParent();
            }
        }
        return common;
    }

    /** Refuses an output folder that is an existing file, in one sentence (instead of FileAlreadyExistsException). */
    static void requireFolder(Path out, String option) {
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new LustraException(option + " " + out + " is a file; give a folder (it is created if missing).");
        }
    }

    /**
     * A generated document: its bytes on stdout (a print would re-encode in the platform charset, and the documents
     * have –, × and ℓ), or written atomically to {@code out} and "{@code what}: FILE" printed.
     */
    static void printOrWrite(byte[] doc, Path out, String what) {
        if (out == null) {
            System.out.writeBytes(doc);
            System.out.flush();
            return;
        }
        Files2.writeAtomically(out, doc);
        System.out.println(what + ": " + out);
    }
}
