package org.lustra.eval.calibration;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.lustra.attack.Norm;
import org.lustra.attack.Pgd;
import org.lustra.data.ImageSet;
import org.lustra.defense.DefendedClassifier;
import org.lustra.defense.DefenseFactory;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.hetero.Ensemble;
import org.lustra.defense.hetero.HeteroPurifier;
import org.lustra.model.Classifier;
import org.lustra.util.LustraException;
import org.lustra.util.Progress;
import org.lustra.util.Seed;
import org.lustra.util.Versions;

/**
 * Chooses heterogeneous-noise purification's defaults on validation images (issue 12 item 4): every candidate of a
 * {@link HeteroGrid} purifies the clean images and the same images after a PGD attack made against the bare classifier,
 * and is scored by clean accuracy and by accuracy on those transferred adversarial images. That second number is a
 * cheap robustness <em>proxy</em> — non-adaptive (the attacker ignores the defence), not the adaptive robustness the
 * tables report — chosen because an adaptive attack per candidate would cost hundreds of times more; it ranks how well
 * a setting washes out perturbations, not how well it resists an attacker who knows it.
 *
 * <p>One purification draw per image, with the same noise seeds for every candidate (common random numbers: the
 * differences between candidates are not drowned by independent noise). Each finished candidate is appended to a
 * journal forced to disk, so a killed sweep resumes where it stopped; a journal made with other settings is refused.
 */
public final class HeteroSweep {

    /**
     * What makes two sweeps comparable; the journal's first line, checked on resume.
     *
     * @param classifier the protected classifier
     * @param diffusionModel the diffusion model the purifier runs on
     * @param images which images, in words (split and index range)
     * @param count how many
     * @param epsilon ℓ∞ budget of the transferred PGD
     * @param pgdSteps its iterations (random start, stops per image at its first success, as the harness's
     *     non-adaptive cells do against a deterministic target)
     * @param seed root seed of the attack's start and of the purification noise
     * @param batch images per purification call (× S ensemble members)
     */
    public record Settings(String classifier, String diffusionModel, String images, int count, double epsilon,
            int pgdSteps, long seed, int batch) {
        public Settings {
            if (count < 1 || !(epsilon > 0 && epsilon < 1) || pgdSteps < 1 || batch < 1) {
                throw new IllegalArgumentException("Invalid sweep settings: " + count + " images, ε " + epsilon + ", "
                        + pgdSteps + " PGD steps, batch " + batch + " (≥ 1 image, 0 < ε < 1, ≥ 1 step, batch ≥ 1)");
            }
        }
    }

    /**
     * One candidate's measurement.
     *
     * @param id the candidate's id ({@link HeteroGrid.Candidate#id})
     * @param clean correct predictions on the clean images
     * @param robust correct predictions on the transferred adversarial images
     * @param images how many images each count is out of
     * @param cleanMaskShare mean share of pixels the attention mask gives strong noise, clean images
     * @param adversarialMaskShare the same on the adversarial images
     * @param seconds wall time of the candidate's two purifications
     * @param reference a defence measured beside the candidates for comparison (DiffPure, say), never chosen; its
     *     mask shares are 0 (it has no mask)
     */
    public record Row(String id, String spec, int members, String aggregation, int clean, int robust, int images,
            double cleanMaskShare, double adversarialMaskShare, double seconds, boolean reference) {
        /**
         * A candidate's row. (Journal lines written before references existed lack the field; Gson fills the canonical
         * constructor's boolean with {@code false}, so they read back as candidates.)
         */
        public Row(String id, String spec, int members, String aggregation, int clean, int robust, int images,
                double cleanMaskShare, double adversarialMaskShare, double seconds) {
            this(id, spec, members, aggregation, clean, robust, images, cleanMaskShare, adversarialMaskShare, seconds,
                    false);
        }

        public double cleanAccuracy() {
            return (double) clean / images;
        }

        public double robustAccuracy() {
            return (double) robust / images;
        }
    }

    /**
     * The selection rule: admissible when clean accuracy is at most {@code maxCleanDrop} below a reference's on the
     * same images — the undefended classifier's, or with {@code relativeTo} set the clean accuracy of that reference
     * defence (measured beside the candidates: at a coarse stride every diffusion purifier costs clean accuracy, and
     * the seed's claim is robustness at equal or better clean accuracy than DiffPure); chosen: the admissible candidate
     * with the most correct transferred adversarial images (ties: more clean correct, then fewer ensemble members,
     * then grid order).
     *
     * @param relativeTo the spec of a reference defence, or {@code null} for the undefended classifier
     */
    public record Rule(double maxCleanDrop, String relativeTo) {
        public Rule {
            if (!(maxCleanDrop >= 0 && maxCleanDrop < 1)) {
                throw new IllegalArgumentException("Invalid clean accuracy drop " + maxCleanDrop + " (in [0, 1))");
            }
            if (relativeTo != null && relativeTo.isBlank()) {
                relativeTo = null;
            }
        }

        public Rule(double maxCleanDrop) {
            this(maxCleanDrop, null);
        }

        String describe() {
            return String.format(Locale.ROOT, "admissible: clean accuracy at most %.1f points below %s on the same "
                    + "images; chosen: the admissible candidate with the highest accuracy on the transferred PGD images "
                    + "(ties: higher clean accuracy, then fewer ensemble members, then grid order)", 100 * maxCleanDrop,
                    relativeTo == null ? "the undefended classifier's" : "the reference `" + relativeTo + "`'s");
        }
    }

    /** The chosen candidate's id and whether it met the rule (else: the candidate with the best clean accuracy). */
    record Choice(String id, boolean ruleMet) {}

    /**
     * Applies {@code rule} to {@code rows}: reference rows are never chosen; {@code undefendedClean} is the reference
     * when the rule names none.
     *
     * @throws LustraException when the rule names a reference that is not among the rows
     */
    static Choice choose(List<Row> rows, int undefendedClean, Rule rule) {
        int refClean = undefendedClean;
        if (rule.relativeTo() != null) {
            refClean = rows.stream().filter(r -> r.reference() && r.spec().equals(rule.relativeTo())).findFirst()
                    .orElseThrow(() -> new LustraException("The rule is relative to '" + rule.relativeTo()
                            + "', which is not a measured reference; add it with --reference."))
                    .clean();
        }
        int threshold = refClean;
        List<Row> candidates = rows.stream().filter(r -> !r.reference()).toList();
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("No candidate to choose from");
        }
        int n = candidates.get(0).images();
        Comparator<Row> better = Comparator.comparingInt(Row::robust).thenComparingInt(Row::clean)
                .thenComparingInt(r -> -r.members());
        List<Row> admissible = candidates.stream()
                .filter(r -> r.clean() >= threshold - rule.maxCleanDrop() * n - 1e-9).toList();
        // Stream.max keeps the first of equals (BinaryOperator.maxBy), so grid order is the last tie-break
        Row chosen = admissible.isEmpty() ? candidates.stream().max(Comparator.comparingInt(Row::clean)).orElseThrow()
                : admissible.stream().max(better).orElseThrow();
        return new Choice(chosen.id(), !admissible.isEmpty());
    }

    /** The sweep as written to its JSON file; {@code chosen} is a candidate id (the least bad when the rule failed). */
    public record Result(Settings settings, String rule, boolean ruleMet, String chosen, Map<String, Object> reference,
            String proxy, List<Row> rows, String command, String created, Map<String, String> versions) {}

    private HeteroSweep() {}

    /**
     * Measures every candidate not yet in {@code journal} on {@code images} and applies {@code rule} to all of them.
     *
     * @throws LustraException when the journal holds a sweep with other settings
     */
    public static Result run(List<HeteroGrid.Candidate> candidates, Classifier classifier, DefenseFactory factory,
            ImageSet images, Settings settings, Rule rule, Path journal, String command, Consumer<String> log) {
        return run(candidates, List.of(), classifier, factory, images, settings, rule, journal, command, log);
    }

    /**
     * As {@link #run(List, Classifier, DefenseFactory, ImageSet, Settings, Rule, Path, String, Consumer)}, also
     * measuring each spec of {@code references} (any defence, one draw with the candidates' noise seeds) as a row
     * that is shown and may anchor the rule but is never chosen.
     */
    public static Result run(List<HeteroGrid.Candidate> candidates, List<String> references, Classifier classifier,
            DefenseFactory factory, ImageSet images, Settings settings, Rule rule, Path journal, String command,
            Consumer<String> log) {
        if (rule.relativeTo() != null && !references.contains(rule.relativeTo())) {
            throw new LustraException("The rule is relative to '" + rule.relativeTo() + "', which is not among the "
                    + "references " + references + "; add it with --reference.");
        }
        if (images.size() != settings.count()) {
            throw new IllegalArgumentException("Settings say " + settings.count() + " images, got " + images.size());
        }
        Map<String, Row> done = SweepJournal.read(journal, settings);
        Shape shape = new Shape(images.channels(), images.height(), images.width());
        int n = images.size();
        float[] clean = new float[n * (int) shape.size()];
        for (int i = 0; i < n; i++) {
            float[] v = images.imageFloats(i);
            System.arraycopy(v, 0, clean, i * v.length, v.length);
        }
        int[] labels = images.labels();
        float[] adversarial = transferredPgd(classifier, clean, labels, shape, settings);
        int refClean = correct(classifier, clean, labels, shape, settings.batch());
        int refRobust = correct(classifier, adversarial, labels, shape, settings.batch());
        log.accept(String.format(Locale.ROOT, "undefended: clean %d/%d, transferred PGD ℓ∞ %.4f: %d/%d", refClean, n,
                settings.epsilon(), refRobust, n));
        List<Row> rows = new ArrayList<>();
        int total = references.size() + candidates.size();
        Progress progress = new Progress("calibrate hetero", total, "rows");
        int before = (int) references.stream().filter(r -> done.containsKey(referenceId(r))).count()
                + (int) candidates.stream().filter(c -> done.containsKey(c.id())).count();
        progress.startAt(before);
        int finished = before;
        for (String spec : references) {
            Row row = done.get(referenceId(spec));
            if (row == null) {
                row = measureReference(spec, classifier, factory, clean, adversarial, labels, shape, settings);
                SweepJournal.append(journal, row);
                progress.update(++finished, row.id());
            }
            rows.add(row);
            log.accept(line(row, n));
        }
        for (HeteroGrid.Candidate c : candidates) {
            Row row = done.get(c.id());
            if (row == null) {
                row = measure(c, classifier, factory, clean, adversarial, labels, shape, settings);
                SweepJournal.append(journal, row);
                // journaled rows count from the start, so the rate and ETA are this run's
                progress.update(++finished, c.id());
            }
            rows.add(row);
            log.accept(line(row, n));
        }
        progress.finish(rows.size(), "done");
        Choice choice = choose(rows, refClean, rule);
        Map<String, Object> reference = new LinkedHashMap<>();
        reference.put("clean", refClean);
        reference.put("robust", refRobust);
        reference.put("images", n);
        String proxy = String.format(Locale.ROOT, "PGD ℓ∞ ε=%.4f, %d steps, random start, made against the bare %s and "
                + "then purified (non-adaptive transfer: the attacker ignores the defence); a proxy for ranking "
                + "settings, not an adaptive robustness number", settings.epsilon(), settings.pgdSteps(),
                classifier.name());
        return new Result(settings, rule.describe(), choice.ruleMet(), choice.id(), reference, proxy, rows,
                command, Instant.now().toString(), Versions.describe());
    }

    /** The journal and table id of a reference defence (never a {@code hetero:} candidate id). */
    static String referenceId(String spec) {
        return "reference " + spec;
    }

    private static String line(Row row, int n) {
        return String.format(Locale.ROOT, "%-62s clean %3d/%d  PGD-transfer %3d/%d  mask %s  %.0f s", row.id(),
                row.clean(), n, row.robust(), n, row.reference() ? "-" : String.format(Locale.ROOT, "%.1f%%/%.1f%%",
                        100 * row.cleanMaskShare(), 100 * row.adversarialMaskShare()), row.seconds());
    }

    /** One draw per image of a reference defence, with the seeds the candidates get for the same chunks. */
    private static Row measureReference(String spec, Classifier classifier, DefenseFactory factory, float[] clean,
            float[] adversarial, int[] labels, Shape shape, Settings s) {
        long t0 = System.nanoTime();
        DefendedClassifier d = new DefendedClassifier(factory.create(DefenseSpec.parse(spec), classifier), classifier);
        int cleanRight = referenceCorrect(d, clean, labels, shape, s);
        int advRight = referenceCorrect(d, adversarial, labels, shape, s);
        return new Row(referenceId(spec), spec, 1, "single", cleanRight, advRight, labels.length, 0, 0,
                Math.round((System.nanoTime() - t0) / 1e8) / 10.0, true);
    }

    private static int referenceCorrect(DefendedClassifier d, float[] x, int[] labels, Shape shape, Settings s) {
        int[] right = {0};
        Seed root = Seed.of(s.seed()).child("hetero-sweep");
        chunks(x, labels.length, shape, s.batch(), (chunk, from, in) -> right[0] += correct(d.evaluate(in,
                root.child(chunk).value()).logits(), labels, from));
        return right[0];
    }

    private static Row measure(HeteroGrid.Candidate c, Classifier classifier, DefenseFactory factory, float[] clean,
            float[] adversarial, int[] labels, Shape shape, Settings s) {
        long t0 = System.nanoTime();
        HeteroPurifier p = (HeteroPurifier) factory.create(DefenseSpec.parse(c.spec()), classifier);
        Ensemble e = new Ensemble(new DefendedClassifier(p, classifier), c.members(), c.aggregation());
        double[] cleanRun = ensembleCorrect(e, p, clean, labels, shape, s);
        double[] advRun = ensembleCorrect(e, p, adversarial, labels, shape, s);
        return new Row(c.id(), c.spec(), c.members(), c.aggregation().name().toLowerCase(Locale.ROOT),
                (int) cleanRun[0], (int) advRun[0], labels.length, round(cleanRun[1]), round(advRun[1]),
                Math.round((System.nanoTime() - t0) / 1e8) / 10.0);
    }

    /** Correct predictions of the ensemble and the mean attention-mask share, batch by batch. */
    private static double[] ensembleCorrect(Ensemble e, HeteroPurifier p, float[] x, int[] labels, Shape shape,
            Settings s) {
        int d = (int) shape.size();
        double[] rightAndMask = new double[2];
        Seed root = Seed.of(s.seed()).child("hetero-sweep");
        chunks(x, labels.length, shape, s.batch(), (chunk, from, in) -> {
            // the same seed for every candidate and for clean and adversarial images of one chunk
            int[] pred = e.predict(in, root.child(chunk).value());
            for (int i = 0; i < pred.length; i++) {
                rightAndMask[0] += pred[i] == labels[from + i] ? 1 : 0;
            }
            rightAndMask[1] += p.attention(in).mask().sum().getFloat() / d;
        });
        return new double[] {rightAndMask[0], rightAndMask[1] / labels.length};
    }

    private static float[] transferredPgd(Classifier classifier, float[] clean, int[] labels, Shape shape, Settings s) {
        float[] out = new float[clean.length];
        Seed root = Seed.of(s.seed()).child("hetero-sweep-pgd");
        chunks(clean, labels.length, shape, s.batch(), (chunk, from, in) -> {
            Pgd.Options o = new Pgd.Options(Norm.LINF, s.epsilon(), s.pgdSteps(), 0, true, root.child(chunk).value());
            float[] adv = Pgd.attack(classifier::logits, in, Arrays.copyOfRange(labels, from, from
                    + (int) in.getShape().get(0)), o).adversarial().toFloatArray();
            System.arraycopy(adv, 0, out, from * (int) shape.size(), adv.length);
        });
        return out;
    }

    private static int correct(Classifier classifier, float[] x, int[] labels, Shape shape, int batch) {
        int[] right = {0};
        chunks(x, labels.length, shape, batch, (chunk, from, in) -> right[0] += correct(classifier.logits(in), labels,
                from));
        return right[0];
    }

    /** Predictions of {@code logits} (one row per image from {@code from} on) that match the labels. */
    private static int correct(NDArray logits, int[] labels, int from) {
        int[] pred = logits.argMax(1).toType(ai.djl.ndarray.types.DataType.INT32, false).toIntArray();
        int right = 0;
        for (int i = 0; i < pred.length; i++) {
            right += pred[i] == labels[from + i] ? 1 : 0;
        }
        return right;
    }

    /** What a sweep does with one batch of images: its index, its first image's index and the images. */
    private interface Batch {
        void accept(int chunk, int from, NDArray images);
    }

    /** Hands {@code x} ({@code n} images of {@code shape}) to {@code batch} in chunks, each in its own NDManager. */
    private static void chunks(float[] x, int n, Shape shape, int size, Batch batch) {
        int d = (int) shape.size();
        try (NDManager m = NDManager.newBaseManager()) {
            for (int from = 0, chunk = 0; from < n; from += size, chunk++) {
                int to = Math.min(n, from + size);
                try (NDManager step = m.newSubManager()) {
                    batch.accept(chunk, from, step.create(Arrays.copyOfRange(x, from * d, to * d),
                            new Shape(to - from, shape.get(0), shape.get(1), shape.get(2))));
                }
            }
        }
    }

    private static double round(double v) {
        return Math.round(v * 10000) / 10000.0;
    }
}
