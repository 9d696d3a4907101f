package org.lustra.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Function;
import org.lustra.util.Files2;
import org.lustra.util.Json;
import org.lustra.util.LustraException;
import org.lustra.util.LustraHome;
import org.lustra.util.Permutations;
import org.lustra.util.Seed;

/**
 * The data subsets shipped under {@code data/}, written by {@code lustra data subsets} with a recorded seed:
 * <ul>
 *   <li>{@code validation}: 5000 Fashion-MNIST training images held out from classifier training, for every
 *       tuning choice;</li>
 *   <li>{@code fewshot8}: 8 training images (8 distinct classes, disjoint from validation) for prompt tuning;</li>
 *   <li>{@code eval512}: the fixed evaluation subset, 512 test images that {@code classifier-resnet} classifies
 *       correctly (SPEC §7), taken in a seeded random order;</li>
 *   <li>{@code digits-holdout}: 20 % of the OpenCV digits, held out from {@code classifier-digits}.</li>
 *   <li>{@code eval512-tone}: {@code eval512} tone-shifted (seed 003's ColoredImageNet on grayscale): each image's
 *       log-intensity mean and spread moved onto those of a random test-split image ({@link ToneTransfer}), the
 *       targets drawn from the manifest seed's child {@code "eval512-tone"} and recorded.</li>
 * </ul>
 * {@link #load(Path, String)} also takes corrupted forms of any subset, computed on load ({@link SubsetSpec}).
 * Each subset comes from its own split of the seed's generator, so remaking one never moves another.
 */
public final class Subsets {
    public static final long DEFAULT_SEED = 20261122L;
    public static final String MANIFEST = "subsets.json";
    public static final int VALIDATION_SIZE = 5000;
    public static final int FEWSHOT_SIZE = 8;
    public static final int EVAL_SIZE = 512;
    public static final double DIGITS_HOLDOUT = 0.2;
    /** The tone-shifted evaluation subset. */
    public static final String TONE = "eval512-tone";

    /**
     * One shipped subset: where it came from, its files and their hashes, and the source indices; for
     * {@value #TONE} also the test-split index of each image's tone target (null for the others).
     */
    public record Entry(String source, String description, int count, String images, String labels,
            String imagesSha256, String labelsSha256, int[] indices, int[] targets) {}

    /** The manifest written next to the files. */
    public record Manifest(long seed, String command, String created, Map<String, String> sources,
            Map<String, Entry> subsets) {}

    private Subsets() {}

    public static Path dir() {
        return LustraHome.data();
    }

    public static Manifest manifest(Path dataDir) {
        Path file = dataDir.resolve(MANIFEST);
        if (!Files.isRegularFile(file)) {
            throw new LustraException("Shipped data manifest " + file + " is missing; run 'lustra data subsets' or "
                    + "restore data/ from the repository.");
        }
        return Json.read(file, Manifest.class);
    }

    /**
     * Loads a subset by its spec ({@link SubsetSpec}: a shipped subset, optionally corrupted on load), verifying the
     * shipped files against the manifest's hashes.
     */
    public static ImageSet load(Path dataDir, String spec) {
        SubsetSpec s = SubsetSpec.parse(spec);
        ImageSet base = loadShipped(dataDir, s.base());
        if (s.shuffled()) {
            base = base.subset(shuffled(manifest(dataDir).seed(), s.base(), base.size()));
        }
        return s.corruption() == null ? base : s.corruption().applyTo(base, s.severity());
    }

    /**
     * A warning when the first {@code n} images of {@code set} (loaded from {@code spec}) miss classes the whole set
     * has (a subset stored sorted by class, as {@code digits-holdout} is, gives a first N of one or two classes), else
     * empty. Only asked when {@code n} could cover every class.
     */
    public static Optional<String> unrepresentativeHead(ImageSet set, int n, SubsetSpec spec) {
        TreeSet<Integer> all = new TreeSet<>();
        TreeSet<Integer> head = new TreeSet<>();
        for (int i = 0; i < set.size(); i++) {
            all.add(set.label(i));
            if (i < n) {
                head.add(set.label(i));
            }
        }
        if (n >= set.size() || n < all.size() || head.size() == all.size()) {
            return Optional.empty();
        }
        String fix = spec.shuffled() ? "use more images" : "use "
                + new SubsetSpec(spec.base(), true, spec.corruption(), spec.severity()).text()
                + " (a seeded random order) or more images";
        return Optional.of("The first " + n + " images of " + spec.text() + " hold " + head.size() + " of its "
                + all.size() + " classes " + head + ", so the results describe those classes only; " + fix + ".");
    }

    /**
     * The order of {@code NAME~shuffled}: a uniformly random permutation of the subset's {@code size} images, drawn
     * from the data manifest's seed and the subset's name, so it is the same on every machine and for every run.
     */
    public static int[] shuffled(long manifestSeed, String name, int size) {
        SplittableRandom rng = Seed.of(manifestSeed).child("order").child(name).random();
        return Permutations.random(size, rng::nextInt);
    }

    private static ImageSet loadShipped(Path dataDir, String name) {
        Entry e = manifest(dataDir).subsets().get(name);
        if (e == null) {
            throw new LustraException("Shipped subset '" + name + "' is not in " + dataDir.resolve(MANIFEST)
                    + " (it has " + manifest(dataDir).subsets().keySet() + "); run 'lustra data subsets'.");
        }
        Path img = dataDir.resolve(e.images());
        Path lab = dataDir.resolve(e.labels());
        for (Path[] pair : new Path[][] {{img}, {lab}}) {
            if (!Files.isRegularFile(pair[0])) {
                throw new LustraException("Shipped data file " + pair[0] + " is missing; restore data/ or run "
                        + "'lustra data subsets'.");
            }
        }
        if (!Files2.sha256(img).equals(e.imagesSha256()) || !Files2.sha256(lab).equals(e.labelsSha256())) {
            throw new LustraException("Shipped subset '" + name + "' does not match the hashes in its manifest; "
                    + "restore data/ from the repository or rerun 'lustra data subsets'.");
        }
        return Idx.readImageSet(img, lab);
    }

    public static ImageSet load(String name) {
        return load(dir(), name);
    }

    /** Where a shipped subset's images come from ("fashion-mnist test", "opencv digits.png", …), by subset spec. */
    public static String source(String spec) {
        String base = SubsetSpec.parse(spec).base();
        Entry e = manifest(dir()).subsets().get(base);
        if (e == null) {
            throw new LustraException("Shipped subset '" + base + "' is not in " + dir().resolve(MANIFEST)
                    + "; run 'lustra data subsets'.");
        }
        return e.source();
    }

    /** The Fashion-MNIST training images not in the validation split (what classifiers train on). */
    public static int[] trainingIndices(Manifest m, int trainSize) {
        return complement(m.subsets().get("validation").indices(), trainSize);
    }

    /** The digit images not in the hold-out. */
    public static int[] digitsTrainingIndices(Manifest m, int total) {
        return complement(m.subsets().get("digits-holdout").indices(), total);
    }

    static int[] complement(int[] excluded, int n) {
        boolean[] out = new boolean[n];
        for (int i : excluded) {
            out[i] = true;
        }
        return java.util.stream.IntStream.range(0, n).filter(i -> !out[i]).toArray();
    }

    /**
     * Writes every subset it can into {@code dataDir}. {@code evalFilter}, when present, returns for a batch of
     * test images whether the protected classifier gets each one right; without it {@code eval512} is kept from a
     * previous manifest (if any) or left out.
     */
    public static Manifest make(Path dataDir, long seed, ImageSet fmTrain, ImageSet fmTest, Path fmSource,
            ImageSet digits, Path digitsSource, Function<ImageSet, boolean[]> evalFilter, String command,
            java.util.function.Consumer<String> log) {
        SplittableRandom root = new SplittableRandom(seed);
        SplittableRandom valRng = root.split();
        SplittableRandom fewRng = root.split();
        SplittableRandom evalRng = root.split();
        SplittableRandom digitsRng = root.split();
        Map<String, Entry> out = new LinkedHashMap<>();

        int[] val = Arrays.copyOf(Permutations.random(fmTrain.size(), valRng::nextInt), VALIDATION_SIZE);
        Arrays.sort(val);
        out.put("validation", write(dataDir, "validation", fmTrain, val, "fashion-mnist train",
                VALIDATION_SIZE + " training images held out from classifier training; use for every tuning choice"));

        out.put("fewshot8", write(dataDir, "fewshot8", fmTrain, fewShot(fmTrain, val, fewRng),
                "fashion-mnist train", "8 training images of 8 distinct classes, outside the validation split, "
                        + "for few-shot prompt tuning"));

        int[] testOrder = Permutations.random(fmTest.size(), evalRng::nextInt);
        Manifest previous = Files.isRegularFile(dataDir.resolve(MANIFEST)) ? manifest(dataDir) : null;
        if (evalFilter != null) {
            out.put("eval512", eval512(dataDir, fmTest, testOrder, evalFilter));
        } else if (previous != null && previous.subsets().containsKey("eval512")) {
            out.put("eval512", previous.subsets().get("eval512"));
            log.accept("eval512: kept from the previous manifest (no classifier-resnet given)");
        } else {
            log.accept("eval512: skipped until classifier-resnet exists");
        }

        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("fashion-mnist", fmSource.toString() + " (Debian package dataset-fashion-mnist)");
        if (digits != null) {
            int holdout = (int) Math.round(digits.size() * DIGITS_HOLDOUT);
            int[] hold = Arrays.copyOf(Permutations.random(digits.size(), digitsRng::nextInt), holdout);
            Arrays.sort(hold);
            out.put("digits-holdout", write(dataDir, "digits-holdout", digits, hold, "opencv digits.png",
                    "20% of the 5000 OpenCV digits (padded to 28x28), held out from classifier-digits training"));
            sources.put("digits", digitsSource.toString() + " (Debian package opencv-doc)");
        }
        if (out.containsKey("eval512")) {
            out.put(TONE, tone(dataDir, seed, out.get("eval512").indices(), fmTest));
        }
        Manifest m = new Manifest(seed, command, Instant.now().toString(), sources, out);
        Json.writeAtomically(dataDir.resolve(MANIFEST), m);
        return m;
    }

    /**
     * (Re)writes only {@value #TONE} from the shipped {@code eval512} and the full test split, keeping every other
     * entry of the manifest; for checkouts made before the tone set existed, or where the digits sheet that a full
     * {@link #make} needs is missing.
     */
    /** The first image of each of 8 distinct classes in a seeded order of the training set, outside validation. */
    private static int[] fewShot(ImageSet fmTrain, int[] validation, SplittableRandom rng) {
        boolean[] inVal = new boolean[fmTrain.size()];
        for (int i : validation) {
            inVal[i] = true;
        }
        List<Integer> few = new ArrayList<>();
        boolean[] classTaken = new boolean[256];
        for (int i : Permutations.random(fmTrain.size(), rng::nextInt)) {
            if (!inVal[i] && !classTaken[fmTrain.label(i)]) {
                classTaken[fmTrain.label(i)] = true;
                few.add(i);
                if (few.size() == FEWSHOT_SIZE) {
                    break;
                }
            }
        }
        return few.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * The first {@link #EVAL_SIZE} test images in {@code testOrder} that {@code evalFilter} accepts (the classifier
     * gets them right), judged 256 at a time so the classifier sees batches.
     */
    private static Entry eval512(Path dataDir, ImageSet fmTest, int[] testOrder,
            Function<ImageSet, boolean[]> evalFilter) {
        List<Integer> chosen = new ArrayList<>();
        int examined = 0;
        for (int from = 0; from < testOrder.length && chosen.size() < EVAL_SIZE; from += 256) {
            int[] chunk = Arrays.copyOfRange(testOrder, from, Math.min(testOrder.length, from + 256));
            boolean[] ok = evalFilter.apply(fmTest.subset(chunk));
            for (int k = 0; k < chunk.length && chosen.size() < EVAL_SIZE; k++) {
                examined++;
                if (ok[k]) {
                    chosen.add(chunk[k]);
                }
            }
        }
        int[] idx = chosen.stream().mapToInt(Integer::intValue).toArray();
        return write(dataDir, "eval512", fmTest, idx, "fashion-mnist test", EVAL_SIZE + " test images correctly "
                + "classified by classifier-resnet, the first in a seeded random order (" + examined + " examined, "
                + (examined - idx.length) + " skipped as wrong)");
    }

    public static Manifest writeTone(Path dataDir, ImageSet fmTest) {
        Manifest m = manifest(dataDir);
        Entry eval = m.subsets().get("eval512");
        if (eval == null) {
            throw new LustraException("The tone-shifted set is made from eval512, which " + dataDir.resolve(MANIFEST)
                    + " does not list; run 'lustra data subsets' once classifier-resnet exists.");
        }
        Map<String, Entry> subsets = new LinkedHashMap<>(m.subsets());
        subsets.put(TONE, tone(dataDir, m.seed(), eval.indices(), fmTest));
        Manifest out = new Manifest(m.seed(), m.command(), m.created(), m.sources(), subsets);
        Json.writeAtomically(dataDir.resolve(MANIFEST), out);
        return out;
    }

    /**
     * {@code eval512} (test-split indices {@code evalIndices}) tone-shifted: image i takes the log-intensity statistics
     * of test image {@code targets[i]}, drawn uniformly from the test split other than image i itself, from the
     * seed's child {@code "eval512-tone"}. Bytes are rounded (the transfer's output is continuous).
     */
    static Entry tone(Path dataDir, long seed, int[] evalIndices, ImageSet fmTest) {
        SplittableRandom rng = Seed.of(seed).child(TONE).random();
        ImageSet eval = fmTest.subset(evalIndices);
        int d = eval.imageSize();
        byte[] px = new byte[eval.size() * d];
        int[] targets = new int[eval.size()];
        for (int i = 0; i < eval.size(); i++) {
            int t;
            do {
                t = rng.nextInt(fmTest.size());
            } while (t == evalIndices[i]);
            targets[i] = t;
            float[] shifted = ToneTransfer.transfer(eval.imageFloats(i), fmTest.imageFloats(t), eval.channels());
            for (int j = 0; j < d; j++) {
                px[i * d + j] = (byte) Math.round(shifted[j] * 255.0);
            }
        }
        ImageSet shifted = new ImageSet(px, eval.labels(), eval.channels(), eval.height(), eval.width());
        Path img = dataDir.resolve(TONE + "-images-idx3-ubyte.gz");
        Path lab = dataDir.resolve(TONE + "-labels-idx1-ubyte.gz");
        Idx.writeImageSet(shifted, img, lab);
        return new Entry("fashion-mnist test", "eval512 tone-shifted: each image's log-intensity mean and standard "
                + "deviation moved onto those of a random other test image (grayscale Reinhard transfer, a per-image "
                + "gamma and gain; targets from seed child \"" + TONE + "\" of the manifest seed, listed in targets)",
                evalIndices.length, img.getFileName().toString(), lab.getFileName().toString(), Files2.sha256(img),
                Files2.sha256(lab), evalIndices, targets);
    }

    private static Entry write(Path dataDir, String name, ImageSet source, int[] indices, String sourceName,
            String description) {
        ImageSet subset = source.subset(indices);
        Path img = dataDir.resolve(name + "-images-idx3-ubyte.gz");
        Path lab = dataDir.resolve(name + "-labels-idx1-ubyte.gz");
        Idx.writeImageSet(subset, img, lab);
        return new Entry(sourceName, description, indices.length, img.getFileName().toString(),
                lab.getFileName().toString(), Files2.sha256(img), Files2.sha256(lab), indices, null);
    }
}
