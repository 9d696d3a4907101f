package org.lustra.util;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * A random seed that derives named child seeds, so every random stream in Lustra has a path from one root
 * (experiment → cell → chunk → purpose, or training run → step) that can be written down and replayed.
 *
 * <p>Why not arithmetic on seeds: {@code new SplittableRandom(seed * 0x9E3779B97F4A7C15L + step)} multiplies by
 * SplittableRandom's own increment γ, so the stream of seed s + 1 is the stream of seed s shifted by one draw. Here a
 * child's value is a strong 64-bit mix (SplitMix64's finaliser, Stafford variant 13) of the parent's value and the
 * child's name, applied twice; adjacent seeds and adjacent indices give unrelated streams (tested).
 *
 * @param value the 64-bit seed
 */
public record Seed(long value) {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    /** The root seed of a run from a user-given number. */
    public static Seed of(long value) {
        return new Seed(value);
    }

    /** The child named {@code name} (e.g. "cell:pgd-linf-8", "purification"). */
    public Seed child(String name) {
        long h = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return new Seed(mix(mix(value ^ GOLDEN) + h));
    }

    /** The child with index {@code index} (a step, a chunk, an image). */
    public Seed child(long index) {
        return new Seed(mix(mix(value + GOLDEN) ^ mix(index * GOLDEN + 0x632BE59BD9B4E019L)));
    }

    /** A fresh generator on this seed. */
    public SplittableRandom random() {
        return new SplittableRandom(mix(value));
    }

    /** A 31-bit value for APIs that take an int seed. */
    public int intValue() {
        return (int) (mix(value) >>> 33);
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    @Override
    public String toString() {
        return Long.toUnsignedString(value, 16);
    }
}
