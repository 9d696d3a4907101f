package org.lustra.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.lustra.util.Files2;
import org.lustra.util.LustraException;

/**
 * Image files in and out through {@code javax.imageio} (PNG, JPEG, BMP, GIF), grayscale or RGB. Pixel values are
 * floats in [0, 1], CHW order; writing clamps and rounds (never the truncating cast that wraps 300 to 44).
 */
public final class ImageFiles {
    private ImageFiles() {}

    /** Decodes an image of any size up to {@link ImageDecoder#DEFAULT_MAX_PIXELS} (checked from the header). */
    static BufferedImage readBuffered(Path file) {
        return ImageDecoder.readAnySize(file, ImageDecoder.DEFAULT_MAX_PIXELS);
    }

    /**
     * Reads an image as CHW floats in [0, 1] with the requested channel count (1 = luminance, 3 = RGB). The size is
     * checked from the file's header before decoding: without {@code resize} it must be {@code width × height}.
     */
    public static float[] read(Path file, int channels, int height, int width, boolean resize) {
        return fit(ImageDecoder.read(file, width, height, resize, ImageDecoder.DEFAULT_MAX_PIXELS), channels, height,
                width);
    }

    /** As {@link #read(Path, int, int, int, boolean)} for an upload held in memory; {@code name} is for messages. */
    public static float[] decode(byte[] bytes, String name, int channels, int height, int width, boolean resize,
            long maxPixels) {
        return fit(ImageDecoder.read(bytes, name, width, height, resize, maxPixels), channels, height, width);
    }

    private static float[] fit(BufferedImage img, int channels, int height, int width) {
        if (img.getWidth() != width || img.getHeight() != height) {
            img = resize(img, width, height);
        }
        return toChannels(img, channels);
    }

    static BufferedImage resize(BufferedImage img, int width, int height) {
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(img, 0, 0, width, height, null);
        g.dispose();
        return out;
    }

    static float[] toChannels(BufferedImage img, int channels) {
        if (channels == 1) {
            return toGray(img);
        }
        if (channels != 3) {
            throw new IllegalArgumentException("Invalid channel count: " + channels + " (expected 1 or 3)");
        }
        int w = img.getWidth();
        int h = img.getHeight();
        float[] out = new float[3 * w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = img.getRGB(x, y);
                out[y * w + x] = ((rgb >> 16) & 0xff) / 255f;
                out[w * h + y * w + x] = ((rgb >> 8) & 0xff) / 255f;
                out[2 * w * h + y * w + x] = (rgb & 0xff) / 255f;
            }
        }
        return out;
    }

    /** Pixels of a decoded image as CHW floats in [0, 1] with {@code channels} channels. */
    public static float[] pixels(BufferedImage img, int channels) {
        return toChannels(img, channels);
    }

    /** Luminance in [0, 1]; gray images are read exactly from their raster, colour ones by ITU-R 601 weights. */
    static float[] toGray(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        float[] out = new float[w * h];
        if (img.getType() == BufferedImage.TYPE_BYTE_GRAY) {
            int[] px = img.getRaster().getPixels(0, 0, w, h, (int[]) null);
            for (int i = 0; i < out.length; i++) {
                out[i] = px[i] / 255f;
            }
            return out;
        }
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = img.getRGB(x, y);
                out[y * w + x] = (0.299f * ((rgb >> 16) & 0xff) + 0.587f * ((rgb >> 8) & 0xff) + 0.114f * (rgb & 0xff))
                        / 255f;
            }
        }
        return out;
    }

    /** Reads into a (1, C, H, W) batch owned by {@code manager}. */
    public static NDArray readBatch(NDManager manager, Path file, int channels, int height, int width, boolean resize) {
        return manager.create(read(file, channels, height, width, resize), new Shape(1, channels, height, width));
    }

    /** Encodes CHW floats in [0, 1] (values outside are clamped) as PNG bytes. */
    public static byte[] encodePng(float[] chw, int channels, int height, int width) {
        BufferedImage img = toImage(chw, channels, height, width);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    public static BufferedImage toImage(float[] chw, int channels, int height, int width) {
        if (chw.length != channels * height * width) {
            throw new IllegalArgumentException("Pixel count " + chw.length + " does not match " + channels + "x"
                    + height + "x" + width);
        }
        int plane = height * width;
        if (channels == 1) {
            BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
            int[] px = new int[plane];
            for (int i = 0; i < plane; i++) {
                px[i] = toByte(chw[i]);
            }
            img.getRaster().setPixels(0, 0, width, height, px);
            return img;
        }
        if (channels != 3) {
            throw new IllegalArgumentException("Invalid channel count: " + channels + " (expected 1 or 3)");
        }
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < plane; i++) {
            int rgb = toByte(chw[i]) << 16 | toByte(chw[plane + i]) << 8 | toByte(chw[2 * plane + i]);
            img.setRGB(i % width, i / width, rgb);
        }
        return img;
    }

    /** Writes a PNG atomically; the format follows the extension ({@code .png} or {@code .jpg}). */
    public static void write(Path file, float[] chw, int channels, int height, int width) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".png")) {
            Files2.writeAtomically(file, encodePng(chw, channels, height, width));
            return;
        }
        if (!name.endsWith(".jpg") && !name.endsWith(".jpeg")) {
            throw new LustraException("Cannot write " + file + ": use a .png or .jpg file name.");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(toImage(chw, channels, height, width), "jpg", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Files2.writeAtomically(file, out.toByteArray());
    }

    /**
     * Writes a batch (N, C, H, W) in [0, 1] as one PNG grid with {@code cols} columns and a 2-pixel black border
     * between cells.
     */
    public static void writeGrid(Path file, float[] batch, int n, int c, int h, int w, int cols) {
        int rows = (n + cols - 1) / cols;
        int pad = 2;
        int gh = rows * (h + pad) + pad;
        int gw = cols * (w + pad) + pad;
        float[] grid = new float[c * gh * gw];
        for (int k = 0; k < n; k++) {
            int oy = pad + (k / cols) * (h + pad);
            int ox = pad + (k % cols) * (w + pad);
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    System.arraycopy(batch, ((k * c + ch) * h + y) * w, grid, (ch * gh + oy + y) * gw + ox, w);
                }
            }
        }
        write(file, grid, c, gh, gw);
    }

    static int toByte(float v) {
        return Math.round(Math.max(0f, Math.min(1f, v)) * 255f);
    }

    /** True for the file extensions {@link #read} understands. */
    public static boolean looksLikeImage(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg") || n.endsWith(".bmp")
                || n.endsWith(".gif");
    }
}
