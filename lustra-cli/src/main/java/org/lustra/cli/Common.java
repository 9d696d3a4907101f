package org.lustra.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.lustra.data.ImageFiles;
import org.lustra.model.ModelCard;
import org.lustra.model.ModelStore;
import org.lustra.util.LustraException;

/** Small helpers shared by the commands. */
final class Common {
    private Common() {}

    /** Images read at a classifier's input shape, flat (N·C·H·W in [0, 1]). */
    record Images(float[] pixels, int channels, int size) {
        int imageSize() {
            return channels * size * size;
        }
    }

    /**
     * Reads every file at the input shape of classifier {@code model} (from its card, before any engine starts, so a
     * bad file costs nothing and prints only its error).
     */
    static Images readForClassifier(String model, List<Path> files, boolean resize) {
        ModelCard card = ModelStore.readCard(ModelStore.resolve(model));
        if (card.architecture() == null) {
            throw new LustraException("'" + model + "' is not a classifier.");
        }
        int ch = card.architecture().channels();
        int size = card.architecture().size();
        int d = ch * size * size;
        float[] all = new float[files.size() * d];
        for (int i = 0; i < files.size(); i++) {
            System.arraycopy(ImageFiles.read(files.get(i), ch, size, size, resize), 0, all, i * d, d);
        }
        return new Images(all, ch, size);
    }

    /** Expands folders (one level, image extensions only, sorted) and checks that every path exists. */
    static List<Path> expandImages(List<Path> inputs) {
        List<Path> out = new ArrayList<>();
        for (Path p : inputs) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.list(p)) {
                    List<Path> imgs = s.filter(Files::isRegularFile).filter(ImageFiles::looksLikeImage).sorted().toList();
                    if (imgs.isEmpty()) {
                        throw new LustraException("Folder " + p + " holds no .png/.jpg/.bmp/.gif images.");
                    }
                    out.addAll(imgs);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            } else if (Files.isRegularFile(p)) {
                out.add(p);
            } else {
                throw new LustraException("Input " + p + " does not exist.");
            }
        }
        return out;
    }
}
