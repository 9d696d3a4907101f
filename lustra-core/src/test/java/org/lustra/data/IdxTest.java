package org.lustra.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.util.LustraException;

class IdxTest {
    @TempDir
    Path tmp;

    private static byte[] header(int magic, int... dims) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length);
        b.putInt(magic);
        for (int d : dims) {
            b.putInt(d);
        }
        return b.array();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void readsHandWrittenImageAndLabelFiles() throws IOException {
        // Given: 2 images of 2x3 and 2 labels, written byte by byte as the IDX spec lays them out
        byte[] px = {0, 1, 2, 3, 4, 5, (byte) 250, (byte) 251, (byte) 252, (byte) 253, (byte) 254, (byte) 255};
        Files.write(tmp.resolve("img"), concat(header(0x0803, 2, 2, 3), px));
        Files.write(tmp.resolve("lab"), concat(header(0x0801, 2), new byte[] {7, 9}));
        // When
        ImageSet set = Idx.readImageSet(tmp.resolve("img"), tmp.resolve("lab"));
        // Then
        assertEquals(2, set.size());
        assertEquals(1, set.channels());
        assertEquals(2, set.height());
        assertEquals(3, set.width());
        assertEquals(7, set.label(0));
        assertEquals(9, set.label(1));
        assertArrayEquals(Arrays.copyOfRange(px, 6, 12), set.imageBytes(1));
    }

    @Test
    void gzipAndPlainRoundTripsAreIdentical() {
        byte[] data = new byte[3 * 4 * 4];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 7);
        }
        Idx.write(tmp.resolve("a.gz"), new int[] {3, 4, 4}, data);
        Idx.write(tmp.resolve("a"), new int[] {3, 4, 4}, data);
        Idx.Array gz = Idx.read(tmp.resolve("a.gz"));
        Idx.Array plain = Idx.read(tmp.resolve("a"));
        assertArrayEquals(new int[] {3, 4, 4}, gz.dims());
        assertArrayEquals(data, gz.data());
        assertArrayEquals(data, plain.data());
    }

    @Test
    void truncatedFileIsAnErrorNotAShortRead() throws IOException {
        Files.write(tmp.resolve("t"), concat(header(0x0803, 2, 2, 2), new byte[7]));
        LustraException e = assertThrows(LustraException.class, () -> Idx.read(tmp.resolve("t")));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void trailingBytesBadMagicAndWrongTypeAreErrors() throws IOException {
        Files.write(tmp.resolve("trail"), concat(header(0x0801, 2), new byte[3]));
        assertTrue(assertThrows(LustraException.class, () -> Idx.read(tmp.resolve("trail"))).getMessage()
                .contains("trailing"));
        Files.write(tmp.resolve("magic"), concat(header(0x12340803, 1), new byte[1]));
        assertTrue(assertThrows(LustraException.class, () -> Idx.read(tmp.resolve("magic"))).getMessage()
                .contains("magic"));
        Files.write(tmp.resolve("float"), concat(header(0x0D01, 1), new byte[4]));
        assertTrue(assertThrows(LustraException.class, () -> Idx.read(tmp.resolve("float"))).getMessage()
                .contains("unsigned byte"));
    }

    @Test
    void corruptGzipIsAnError() throws IOException {
        Idx.write(tmp.resolve("c.gz"), new int[] {100}, new byte[100]);
        byte[] raw = Files.readAllBytes(tmp.resolve("c.gz"));
        Files.write(tmp.resolve("c.gz"), Arrays.copyOf(raw, raw.length - 10));
        LustraException e = assertThrows(LustraException.class, () -> Idx.read(tmp.resolve("c.gz")));
        assertTrue(e.getMessage().contains("gzip"), e.getMessage());
    }

    @Test
    void mismatchedImageAndLabelCountsAreAnError() {
        Idx.write(tmp.resolve("i"), new int[] {3, 2, 2}, new byte[12]);
        Idx.write(tmp.resolve("l"), new int[] {2}, new byte[2]);
        assertThrows(LustraException.class, () -> Idx.readImageSet(tmp.resolve("i"), tmp.resolve("l")));
    }

    @Test
    void missingFashionMnistDirectoryNamesThePackageAndTheFlag() {
        LustraException e = assertThrows(LustraException.class,
                () -> FashionMnist.load(tmp.resolve("nowhere"), FashionMnist.Split.TEST));
        assertTrue(e.getMessage().contains("dataset-fashion-mnist"), e.getMessage());
        assertTrue(e.getMessage().contains("--data-dir"), e.getMessage());
    }
}
