package org.lustra.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.lustra.util.LustraException;

/**
 * Decodes untrusted image files and uploads safely: the width and height are read from the header (through the
 * format's {@link ImageReader}) and checked against a pixel budget and the expected size <em>before</em> any pixel is
 * decoded. {@code ImageIO.read} decodes first and asks later, so a 20000×20000 PNG of a few kilobytes used to cost
 * 1.6 GB and end in an OutOfMemoryError reported as an unreadable image.
 */
public final class ImageDecoder {
    /** Default pixel budget of a decoded image (4096 × 4096, 64 MB as ARGB): only used when resizing is allowed. */
    public static final long DEFAULT_MAX_PIXELS = 4096L * 4096L;

    private ImageDecoder() {}

    /** An image larger than the pixel budget, refused from its header; the HTTP service answers 413. */
    public static final class TooLargeException extends LustraException {
        private static final long serialVersionUID = 1L;

        TooLargeException(String message) {
            super(message);
        }
    }

    /** Width and height as the file's header states them. */
    public record Size(int width, int height) {
        public long pixels() {
            return (long) width * height;
        }
    }

    /** Where the bytes come from, for messages, and how to open them. */
    private interface Source {
        ImageInputStream open() throws IOException;
    }

    /**
     * Decodes {@code file} if its header says {@code width × height}, or any size within {@code maxPixels} when
     * {@code resize} is set (the caller resizes). Every failure is one sentence naming the file.
     */
    public static BufferedImage read(Path file, int width, int height, boolean resize, long maxPixels) {
        if (!Files.isRegularFile(file)) {
            throw new LustraException("Image " + file + " does not exist.");
        }
        return decode(() -> ImageIO.createImageInputStream(file.toFile()), file.toString(), width, height, resize,
                maxPixels);
    }

    /** As {@link #read(Path, int, int, boolean, long)} for bytes in memory (an upload); {@code name} names it. */
    public static BufferedImage read(byte[] bytes, String name, int width, int height, boolean resize, long maxPixels) {
        return decode(() -> ImageIO.createImageInputStream(new ByteArrayInputStream(bytes)), name, width, height,
                resize, maxPixels);
    }

    /** Decodes any size within {@code maxPixels} (for sheets and grids whose size the caller checks). */
    public static BufferedImage readAnySize(Path file, long maxPixels) {
        return read(file, -1, -1, true, maxPixels);
    }

    private static BufferedImage decode(Source source, String name, int width, int height, boolean resize,
            long maxPixels) {
        try (ImageInputStream in = source.open()) {
            if (in == null) {
                throw notAnImage(name);
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw notAnImage(name);
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                Size size = new Size(reader.getWidth(0), reader.getHeight(0));
                check(size, name, width, height, resize, maxPixels);
                return reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (LustraException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new LustraException(name + " is not a readable image (" + describe(e)
                    + "); pass PNG, JPEG, BMP or GIF files.", e);
        } catch (OutOfMemoryError e) {
            // the header check keeps this rare (a huge palette, many GIF frames); say what it is, not "unreadable"
            throw new LustraException(name + " is too large to decode in this process's memory; shrink it or give "
                    + "Java more memory (-Xmx).");
        }
    }

    private static void check(Size size, String name, int width, int height, boolean resize, long maxPixels) {
        if (size.width() <= 0 || size.height() <= 0) {
            throw new LustraException(name + " is not a readable image (its header says " + size.width() + "x"
                    + size.height() + "); pass PNG, JPEG, BMP or GIF files.");
        }
        boolean expected = size.width() == width && size.height() == height;
        if (!expected && !resize) {
            throw new LustraException("Image " + name + " is " + size.width() + "x" + size.height()
                    + " but the model expects " + width + "x" + height
                    + "; resize it, or pass --resize (over HTTP: resize=true).");
        }
        if (!expected && size.pixels() > maxPixels) {
            throw new TooLargeException(String.format(Locale.ROOT, "Image %s is %dx%d (%,d pixels), more than the "
                    + "limit of %,d pixels; shrink it before passing it to Lustra.", name, size.width(), size.height(),
                    size.pixels(), maxPixels));
        }
    }

    private static LustraException notAnImage(String name) {
        return new LustraException(name + " is not an image Lustra can read; pass PNG, JPEG, BMP or GIF files.");
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            return e.getClass().getSimpleName();
        }
        return m.length() > 120 ? m.substring(0, 120) + "…" : m;
    }
}
