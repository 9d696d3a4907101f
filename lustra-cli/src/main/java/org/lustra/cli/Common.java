package org.lustra.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.lustra.data.ImageFiles;
import org.lustra.util.LustraException;

/** Small helpers shared by the commands. */
final class Common {
    private Common() {}

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
