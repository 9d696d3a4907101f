package org.lustra.defense.classic;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.lustra.data.ImageFiles;

/** JPEG compression (Dziugaite et al., 2016; Guo et al., 2018) through the real JDK codec at a given quality. */
public final class Jpeg extends PixelPurifier {
    private final int quality;

    public Jpeg(int quality) {
        if (quality < 1 || quality > 100) {
            throw new IllegalArgumentException("Invalid JPEG quality: " + quality + " (1..100)");
        }
        this.quality = quality;
    }

    @Override
    public String name() {
        return "jpeg(q=" + quality + ")";
    }

    @Override
    float[] apply(float[] chw, int c, int h, int w) {
        BufferedImage img = ImageFiles.toImage(chw, c, h, w);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            ImageWriteParam p = writer.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(quality / 100f);
            writer.setOutput(out);
            writer.write(null, new IIOImage(img, null, null), p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            writer.dispose();
        }
        try {
            BufferedImage back = ImageIO.read(new ByteArrayInputStream(bytes.toByteArray()));
            return ImageFiles.pixels(back, c);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
