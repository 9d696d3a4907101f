package org.lustra.data;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.lustra.util.LustraException;

/**
 * The handwritten-digit sheet {@code digits.png} shipped by Debian's {@code opencv-doc}: 5000 digits in 20×20
 * cells, 100 per row, 50 rows, five rows per class (row r holds digit r / 5). Each cell is centred in a 28×28
 * canvas (4 pixels of black on every side) so it matches Fashion-MNIST's size.
 */
public final class DigitsSheet {
    public static final String ENV_PATH = "LUSTRA_DIGITS_PNG";
    public static final Path DEFAULT_PATH = Path.of("/usr/share/doc/opencv-doc/examples/data/digits.png");
    public static final int CELL = 20;
    public static final int SIZE = 28;
    public static final int CLASSES = 10;

    private DigitsSheet() {}

    public static Path resolvePath(Path explicit) {
        if (explicit != null) {
            return explicit;
        }
        String env = System.getenv(ENV_PATH);
        return env != null && !env.isBlank() ? Path.of(env) : DEFAULT_PATH;
    }

    public static ImageSet load(Path png) {
        if (!Files.isRegularFile(png)) {
            throw new LustraException("Digits sheet " + png + " does not exist: install the Debian package opencv-doc "
                    + "(apt-get install opencv-doc) or pass --digits / set " + ENV_PATH + ".");
        }
        return slice(ImageFiles.readBuffered(png), png.toString());
    }

    /** Cuts a sheet image into padded digit images; the sheet's rows must be a multiple of 10 cells. */
    public static ImageSet slice(BufferedImage sheet, String name) {
        int w = sheet.getWidth();
        int h = sheet.getHeight();
        if (w % CELL != 0 || h % CELL != 0 || (h / CELL) % CLASSES != 0) {
            throw new LustraException("Digits sheet " + name + " is " + w + "x" + h + "; expected a grid of 20x20 cells "
                    + "whose row count is a multiple of 10 (the OpenCV sheet is 2000x1000).");
        }
        int cols = w / CELL;
        int rows = h / CELL;
        int rowsPerClass = rows / CLASSES;
        int n = cols * rows;
        int pad = (SIZE - CELL) / 2;
        byte[] px = new byte[n * SIZE * SIZE];
        int[] labels = new int[n];
        float[] gray = ImageFiles.toGray(sheet);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int k = r * cols + c;
                labels[k] = r / rowsPerClass;
                for (int y = 0; y < CELL; y++) {
                    for (int x = 0; x < CELL; x++) {
                        float v = gray[(r * CELL + y) * w + c * CELL + x];
                        px[k * SIZE * SIZE + (y + pad) * SIZE + x + pad] = (byte) Math.round(v * 255f);
                    }
                }
            }
        }
        return new ImageSet(px, labels, 1, SIZE, SIZE);
    }
}
