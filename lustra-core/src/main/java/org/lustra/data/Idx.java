package org.lustra.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.lustra.util.Files2;
import org.lustra.util.LustraException;

/**
 * The IDX format of MNIST-style data sets (unsigned-byte payload only), plain or gzip-compressed.
 * Reading is strict: a wrong magic number, a truncated payload or trailing bytes is an error, never a short read.
 */
public final class Idx {
    /** A decoded IDX file: its dimensions and its bytes. */
    public record Array(int[] dims, byte[] data) {
        public long count() {
            long c = 1;
            for (int d : dims) {
                c *= d;
            }
            return c;
        }
    }

    private static final int UBYTE = 0x08;

    private Idx() {}

    public static Array read(Path file) {
        byte[] raw;
        try {
            raw = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new LustraException("IDX file " + file + " does not exist.");
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read " + file, e);
        }
        if (raw.length >= 2 && (raw[0] & 0xff) == 0x1f && (raw[1] & 0xff) == 0x8b) {
            try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(raw))) {
                raw = in.readAllBytes();
            } catch (IOException e) {
                throw new LustraException("IDX file " + file + " is a corrupt or truncated gzip stream ("
                        + e.getMessage() + "); re-install or re-download it.", e);
            }
        }
        return parse(raw, file.toString());
    }

    static Array parse(byte[] raw, String name) {
        if (raw.length < 4) {
            throw corrupt(name, "it is only " + raw.length + " bytes long");
        }
        ByteBuffer buf = ByteBuffer.wrap(raw);
        int magic = buf.getInt();
        int type = (magic >>> 8) & 0xff;
        int rank = magic & 0xff;
        if ((magic >>> 16) != 0 || rank == 0 || rank > 4) {
            throw corrupt(name, String.format("its magic number 0x%08x is not an IDX header", magic));
        }
        if (type != UBYTE) {
            throw corrupt(name, String.format("its element type 0x%02x is not unsigned byte (0x08)", type));
        }
        if (raw.length < 4 + 4 * rank) {
            throw corrupt(name, "the header is cut short");
        }
        int[] dims = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++) {
            dims[i] = buf.getInt();
            if (dims[i] < 0) {
                throw corrupt(name, "dimension " + i + " is negative");
            }
            count *= dims[i];
        }
        long payload = raw.length - 4L - 4L * rank;
        if (payload != count) {
            throw corrupt(name, "the header promises " + count + " bytes " + Arrays.toString(dims) + " but "
                    + payload + " follow (" + (payload < count ? "truncated" : "trailing garbage") + ")");
        }
        return new Array(dims, Arrays.copyOfRange(raw, 4 + 4 * rank, raw.length));
    }

    private static LustraException corrupt(String name, String why) {
        return new LustraException("IDX file " + name + " is corrupt: " + why + "; re-install or regenerate it.");
    }

    /** Writes an unsigned-byte IDX file, gzip-compressed when the name ends in {@code .gz}, atomically. */
    public static void write(Path file, int[] dims, byte[] data) {
        ByteBuffer header = ByteBuffer.allocate(4 + 4 * dims.length);
        header.putInt((UBYTE << 8) | dims.length);
        long count = 1;
        for (int d : dims) {
            header.putInt(d);
            count *= d;
        }
        if (count != data.length) {
            throw new IllegalArgumentException("Dimensions " + Arrays.toString(dims) + " need " + count
                    + " bytes, got " + data.length);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            if (file.getFileName().toString().endsWith(".gz")) {
                try (GZIPOutputStream gz = new GZIPOutputStream(bytes) {
                    {
                        def.setLevel(9);
                    }
                }) {
                    gz.write(header.array());
                    gz.write(data);
                }
            } else {
                bytes.write(header.array());
                bytes.write(data);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Files2.writeAtomically(file, bytes.toByteArray());
    }

    /** Reads an image file (rank 3: N×H×W, or rank 4: N×C×H×W) and a label file into an {@link ImageSet}. */
    public static ImageSet readImageSet(Path images, Path labels) {
        Array img = read(images);
        Array lab = read(labels);
        if (img.dims().length != 3 && img.dims().length != 4) {
            throw new LustraException("IDX file " + images + " has rank " + img.dims().length
                    + "; expected images of rank 3 (N×H×W) or 4 (N×C×H×W).");
        }
        if (lab.dims().length != 1) {
            throw new LustraException("IDX file " + labels + " has rank " + lab.dims().length
                    + "; expected a label vector of rank 1.");
        }
        int n = img.dims()[0];
        if (lab.dims()[0] != n) {
            throw new LustraException("IDX files " + images + " (" + n + " images) and " + labels + " ("
                    + lab.dims()[0] + " labels) do not match; they must come from the same split.");
        }
        int c = img.dims().length == 4 ? img.dims()[1] : 1;
        int h = img.dims()[img.dims().length - 2];
        int w = img.dims()[img.dims().length - 1];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = lab.data()[i] & 0xff;
        }
        return new ImageSet(img.data(), y, c, h, w);
    }

    /** Writes an {@link ImageSet} as an image file and a label file (rank 3 for one channel, else rank 4). */
    public static void writeImageSet(ImageSet set, Path images, Path labels) {
        int[] dims = set.channels() == 1
                ? new int[] {set.size(), set.height(), set.width()}
                : new int[] {set.size(), set.channels(), set.height(), set.width()};
        write(images, dims, set.pixelsUnsafe());
        byte[] y = new byte[set.size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = (byte) set.label(i);
        }
        write(labels, new int[] {y.length}, y);
    }
}
