package org.lustra.cli;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import java.util.zip.DeflaterOutputStream;
import javax.imageio.ImageIO;

/**
 * Broken image files for the fuzz test, made from good ones by seeded mutations: bit flips, truncation, overwritten
 * runs of bytes, header size fields set to huge values (per format), and decompression bombs (a few kilobytes that
 * claim or really hold hundreds of megapixels).
 */
final class MutatedImages {
    private MutatedImages() {}

    /** One test file: a name (with the format's extension) and its bytes. */
    record Sample(String name, byte[] bytes) {}

    /** {@code img} encoded as {@code format} (png, jpg, gif, bmp) by ImageIO. */
    static byte[] encode(BufferedImage img, String format) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, format, out)) {
                throw new IllegalStateException("No ImageIO writer for " + format);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** {@code perSeed} mutants of every seed file, drawn from {@code random}. */
    static List<Sample> mutants(List<Sample> seeds, int perSeed, SplittableRandom random) {
        List<Sample> out = new ArrayList<>();
        for (Sample s : seeds) {
            for (int k = 0; k < perSeed; k++) {
                int kind = k % 4;
                byte[] b = switch (kind) {
                    case 0 -> flipBits(s.bytes(), 1 + random.nextInt(8), random);
                    case 1 -> Arrays.copyOf(s.bytes(), random.nextInt(s.bytes().length));
                    case 2 -> overwrite(s.bytes(), random);
                    default -> hugeSize(s.bytes(), extension(s.name()), random);
                };
                String[] kinds = {"flip", "cut", "junk", "huge"};
                out.add(new Sample(s.name().replace(".", "-" + kinds[kind] + k + "."), b));
            }
        }
        return out;
    }

    private static String extension(String name) {
        return name.substring(name.lastIndexOf('.') + 1);
    }

    private static byte[] flipBits(byte[] in, int bits, SplittableRandom random) {
        byte[] b = in.clone();
        for (int i = 0; i < bits; i++) {
            int at = random.nextInt(b.length);
            b[at] ^= (byte) (1 << random.nextInt(8));
        }
        return b;
    }

    private static byte[] overwrite(byte[] in, SplittableRandom random) {
        byte[] b = in.clone();
        int from = random.nextInt(b.length);
        int len = Math.min(b.length - from, 1 + random.nextInt(32));
        for (int i = from; i < from + len; i++) {
            b[i] = (byte) random.nextInt(256);
        }
        return b;
    }

    /** The width and/or height field of the header set to a huge (or zero, or negative) value. */
    private static byte[] hugeSize(byte[] in, String format, SplittableRandom random) {
        byte[] b = in.clone();
        int[] values = {0xFFFF, 0x7FFF, 20000, 65535 * 3, 0, -1, Integer.MAX_VALUE};
        int v = values[random.nextInt(values.length)];
        ByteBuffer buf = ByteBuffer.wrap(b);
        switch (format) {
            case "png" -> buf.putInt(16 + 4 * random.nextInt(2), v); // IHDR width, height (CRC left stale)
            case "bmp" -> buf.order(ByteOrder.LITTLE_ENDIAN).putInt(18 + 4 * random.nextInt(2), v);
            case "gif" -> {
                buf.order(ByteOrder.LITTLE_ENDIAN).putShort(6 + 2 * random.nextInt(2), (short) v);
                int descriptor = indexOf(b, (byte) 0x2C, 13); // image descriptor: its own width and height
                if (descriptor > 0 && descriptor + 9 <= b.length) {
                    buf.putShort(descriptor + 5, (short) v).putShort(descriptor + 7, (short) v);
                }
            }
            default -> { // JPEG: the frame header (SOF0/SOF2) holds height then width, big-endian
                int sof = Math.max(indexOf(b, (byte) 0xC0, 2), indexOf(b, (byte) 0xC2, 2));
                if (sof > 0 && sof + 8 <= b.length) {
                    buf.putShort(sof + 4 + 2 * random.nextInt(2), (short) v);
                }
            }
        }
        return b;
    }

    /** The first marker {@code 0xFF code} (JPEG) or byte {@code code} (GIF) at or after {@code from}. */
    private static int indexOf(byte[] b, byte code, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == code && (code == 0x2C || (i > 0 && b[i - 1] == (byte) 0xFF))) {
                return i;
            }
        }
        return -1;
    }

    /**
     * A real PNG of {@code side}×{@code side} black gray pixels: every row is there, deflated to a few kilobytes
     * (zlib reaches ≈ 1000:1 on zeros), so a decoder that trusts it allocates side² bytes or more.
     */
    static byte[] pngBomb(int side) {
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        try (DeflaterOutputStream z = new DeflaterOutputStream(idat)) {
            byte[] row = new byte[side + 1]; // filter byte 0 + the row
            for (int y = 0; y < side; y++) {
                z.write(row);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(side).putInt(side).put((byte) 8).put((byte) 0)
                .put((byte) 0).put((byte) 0).put((byte) 0).array());
        chunk(out, "IDAT", idat.toByteArray());
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    /** A GIF whose screen and only frame claim 65535×65535, with a one-block LZW stream. */
    static byte[] gifBomb() {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        b.put("GIF89a".getBytes(StandardCharsets.US_ASCII)).putShort((short) 0xFFFF).putShort((short) 0xFFFF)
                .put((byte) 0x80).put((byte) 0).put((byte) 0); // global colour table of 2 entries
        b.put(new byte[] {0, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
        b.put((byte) 0x2C).putShort((short) 0).putShort((short) 0).putShort((short) 0xFFFF).putShort((short) 0xFFFF)
                .put((byte) 0);
        b.put((byte) 2).put((byte) 2).put((byte) 0x4C).put((byte) 0x01).put((byte) 0).put((byte) 0x3B);
        return Arrays.copyOf(b.array(), b.position());
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(t);
        out.writeBytes(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
}
