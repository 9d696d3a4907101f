package org.lustra.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.util.LustraException;

class ImagesTest {
    @TempDir
    Path tmp;

    @Test
    void digitsSheetIsSlicedByCellAndPaddedToTwentyEight() {
        // Given: a 2-column, 10-row sheet (one row per class); cell (r, c) holds value 10*r + c at its top-left
        BufferedImage sheet = new BufferedImage(2 * 20, 10 * 20, BufferedImage.TYPE_BYTE_GRAY);
        for (int r = 0; r < 10; r++) {
            for (int c = 0; c < 2; c++) {
                sheet.getRaster().setSample(c * 20, r * 20, 0, 10 * r + c);
                sheet.getRaster().setSample(c * 20 + 19, r * 20 + 19, 0, 200);
            }
        }
        // When
        ImageSet set = DigitsSheet.slice(sheet, "synthetic");
        // Then: row-major order, label = row / rowsPerClass, cell centred with 4 px of border
        assertEquals(20, set.size());
        assertEquals(28, set.height());
        for (int k = 0; k < 20; k++) {
            int r = k / 2;
            int c = k % 2;
            assertEquals(r, set.label(k));
            byte[] img = set.imageBytes(k);
            assertEquals(10 * r + c, img[4 * 28 + 4] & 0xff);
            assertEquals(200, img[23 * 28 + 23] & 0xff);
            assertEquals(0, img[0] & 0xff);
            assertEquals(0, img[27 * 28 + 27] & 0xff);
        }
    }

    @Test
    void sheetWithoutTenClassRowsIsRejected() {
        BufferedImage bad = new BufferedImage(40, 60, BufferedImage.TYPE_BYTE_GRAY);
        assertThrows(LustraException.class, () -> DigitsSheet.slice(bad, "bad"));
    }

    @Test
    void batchesAreNchwFloatsInUnitRange() {
        byte[] px = new byte[3 * 2 * 4 * 4];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i * 5);
        }
        ImageSet set = new ImageSet(px, new int[] {0, 1, 2}, 2, 4, 4);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray b = set.batch(m, 1, 3);
            assertEquals(new Shape(2, 2, 4, 4), b.getShape());
            float[] v = b.toFloatArray();
            assertEquals((32 * 5 & 0xff) / 255f, v[0], 0f);
            for (float f : v) {
                assertTrue(f >= 0f && f <= 1f);
            }
            assertArrayEquals(new int[] {1, 2}, set.labelBatch(m, 1, 3).toIntArray());
        }
    }

    @Test
    void pngRoundTripIsExactForGrayAndRgb() {
        float[] gray = new float[5 * 7];
        for (int i = 0; i < gray.length; i++) {
            gray[i] = (i * 7 % 256) / 255f;
        }
        ImageFiles.write(tmp.resolve("g.png"), gray, 1, 5, 7);
        assertArrayEquals(gray, ImageFiles.read(tmp.resolve("g.png"), 1, 5, 7, false), 0f);

        float[] rgb = new float[3 * 4 * 6];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (i * 11 % 256) / 255f;
        }
        ImageFiles.write(tmp.resolve("c.png"), rgb, 3, 4, 6);
        assertArrayEquals(rgb, ImageFiles.read(tmp.resolve("c.png"), 3, 4, 6, false), 0f);
    }

    @Test
    void writingClampsAndRoundsInsteadOfWrapping() {
        float[] v = {1.2f, -0.3f, 0.5f, 0.999f};
        ImageFiles.write(tmp.resolve("clamp.png"), v, 1, 2, 2);
        float[] back = ImageFiles.read(tmp.resolve("clamp.png"), 1, 2, 2, false);
        assertArrayEquals(new float[] {1f, 0f, 128 / 255f, 1f}, back, 0f);
    }

    @Test
    void nonImageAndWrongSizeGiveClearErrors() throws IOException {
        Files.writeString(tmp.resolve("notes.png"), "not an image");
        LustraException e = assertThrows(LustraException.class,
                () -> ImageFiles.read(tmp.resolve("notes.png"), 1, 28, 28, false));
        assertTrue(e.getMessage().contains("not an image"), e.getMessage());
        ImageFiles.write(tmp.resolve("small.png"), new float[16], 1, 4, 4);
        LustraException size = assertThrows(LustraException.class,
                () -> ImageFiles.read(tmp.resolve("small.png"), 1, 28, 28, false));
        assertTrue(size.getMessage().contains("--resize"), size.getMessage());
        assertEquals(28 * 28, ImageFiles.read(tmp.resolve("small.png"), 1, 28, 28, true).length);
    }
}
