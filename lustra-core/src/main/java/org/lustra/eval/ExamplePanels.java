package org.lustra.eval;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.lustra.data.ImageDecoder;
import org.lustra.model.Classifiers;
import org.lustra.util.LustraException;

/**
 * The report's example panels for people: each cell's raw example grid ({@code examples/CELL.png}, 28-pixel tiles as
 * the harness wrote them: rows clean, adversarial and, for defended cells, purified) redrawn enlarged
 * ({@link #SCALE}×, nearest neighbour) and labelled from the journal — the true class over each column, the
 * prediction under each tile (green right, red wrong), the perturbation size under a defended cell's adversarial
 * input — into {@code figures/examples/CELL.png}. Made by {@link Report#write}, so {@code lustra eval report DIR}
 * relabels the panels of any finished run without recomputing anything. The raw grids stay: they are the exact 8-bit
 * images (the demo reads its adversarial inputs back from them).
 */
final class ExamplePanels {
    /** 28-pixel images become 140-pixel tiles: eight columns fit a 1,300-pixel panel. */
    static final int SCALE = 5;
    /** ImageFiles.writeGrid's border around every tile. */
    private static final int PAD = 2;

    private ExamplePanels() {}

    /** A drawn panel: its path relative to the run folder, the picture, and the records that label it. */
    record Drawn(String name, ImagePanel.Rendered rendered, List<SampleRecord> records) {}

    /**
     * Writes the labelled panel of every cell that has an example grid and its first chunk's records; returns the
     * panels' paths relative to {@code dir}, in the order of the cells.
     */
    static List<String> write(Path dir, Report.Summary s) {
        List<String> out = new ArrayList<>();
        for (Drawn d : draw(dir, s)) {
            // without a font (a JDK with no fonts installed) the panel is still written, enlarged but unlabelled
            ImagePanel.writePng(dir.resolve(d.name()), d.rendered().image());
            out.add(d.name());
        }
        return out;
    }

    /** Draws the panels {@link #write} writes. */
    static List<Drawn> draw(Path dir, Report.Summary s) {
        RunDirectory run = new RunDirectory(dir);
        if (s.seeds().isEmpty() || s.cells().stream().noneMatch(c -> Files.isRegularFile(run.exampleFile(c.cell())))) {
            return List.of();
        }
        // the example is the first chunk of the first run seed (ChunkRunner): those records label it
        long seed = s.seeds().get(0);
        Map<String, List<SampleRecord>> firstChunk = new HashMap<>();
        for (SampleRecord r : run.readRecords()) {
            if (r.seed() == seed && r.chunk() == 0) {
                firstChunk.computeIfAbsent(r.cell(), k -> new ArrayList<>()).add(r);
            }
        }
        List<String> classes = classNames(s.classifier());
        List<Drawn> out = new ArrayList<>();
        for (Report.CellSummary c : s.cells()) {
            Path file = run.exampleFile(c.cell());
            List<SampleRecord> recs = firstChunk.getOrDefault(c.cell(), List.of());
            if (!Files.isRegularFile(file) || recs.isEmpty()) {
                continue;
            }
            recs.sort(Comparator.comparingInt(SampleRecord::index));
            BufferedImage grid = ImageDecoder.readAnySize(file, ImageDecoder.DEFAULT_MAX_PIXELS);
            Layout l = Layout.of(grid, Math.min(recs.size(), 8), c.cell());
            int expected = undefended(c) ? 2 : 3;
            if (l.rows() != expected) {
                throw new LustraException("Example grid of cell " + c.cell() + " has " + l.rows() + " rows, expected "
                        + expected + "; rerun the cell with `lustra eval run --redo`.");
            }
            ImagePanel.Rendered r = new ImagePanel(SCALE).render(title(c), List.of(section(c, grid, l, recs,
                    classes)), notes(c, recs, s.classifier()));
            out.add(new Drawn("figures/examples/" + file.getFileName(), r, List.copyOf(recs.subList(0,
                    l.columns()))));
        }
        return out;
    }

    /** Tiles of the grid: {@code rows} × {@code columns} squares of {@code size} pixels inside a 2-pixel border. */
    record Layout(int rows, int columns, int size) {
        static Layout of(BufferedImage grid, int columns, String cell) {
            int size = (grid.getWidth() - PAD) / columns - PAD;
            int rows = size > 0 ? (grid.getHeight() - PAD) / (size + PAD) : 0;
            if (size < 1 || columns * (size + PAD) + PAD != grid.getWidth()
                    || rows * (size + PAD) + PAD != grid.getHeight()) {
                throw new LustraException("Example grid of cell " + cell + " (" + grid.getWidth() + "x"
                        + grid.getHeight() + ") is not " + columns + " columns of square tiles in a " + PAD
                        + "-pixel border; rerun the cell with `lustra eval run --redo`.");
            }
            return new Layout(rows, columns, size);
        }

        BufferedImage tile(BufferedImage grid, int row, int column) {
            return grid.getSubimage(PAD + column * (size + PAD), PAD + row * (size + PAD), size, size);
        }
    }

    /** One section: the true class over each column, a row per stage, the predictions under the tiles. */
    private static ImagePanel.Section section(Report.CellSummary c, BufferedImage grid, Layout l,
            List<SampleRecord> recs, List<String> classes) {
        int k = l.columns();
        List<String> columns = new ArrayList<>();
        List<List<BufferedImage>> tiles = new ArrayList<>();
        for (int row = 0; row < l.rows(); row++) {
            tiles.add(new ArrayList<>());
            for (int i = 0; i < k; i++) {
                tiles.get(row).add(l.tile(grid, row, i));
            }
        }
        List<ImagePanel.Caption> clean = new ArrayList<>();
        List<ImagePanel.Caption> adversarial = new ArrayList<>();
        List<ImagePanel.Caption> purified = new ArrayList<>();
        boolean undefended = undefended(c);
        for (int i = 0; i < k; i++) {
            SampleRecord r = recs.get(i);
            columns.add("true: " + name(classes, r.label()));
            clean.add(prediction(classes, r.cleanPrediction(), r.cleanCorrect()));
            ImagePanel.Caption adv = prediction(classes, r.adversarialPrediction(), r.robust());
            adversarial.add(undefended ? adv : new ImagePanel.Caption(size(r), ImagePanel.NEUTRAL));
            purified.add(adv);
        }
        List<ImagePanel.Row> rows = new ArrayList<>();
        rows.add(new ImagePanel.Row("clean", tiles.get(0), clean));
        rows.add(new ImagePanel.Row("adversarial", tiles.get(1), adversarial));
        if (!undefended) {
            rows.add(new ImagePanel.Row("purified", tiles.get(2), purified));
        }
        return new ImagePanel.Section("", columns, rows);
    }

    private static String title(Report.CellSummary c) {
        return c.defense() + " against " + c.attack() + (c.mode().equals("none") ? "" : " (" + c.mode().replace(
                "nonadaptive", "non-adaptive") + ")");
    }

    private static List<String> notes(Report.CellSummary c, List<SampleRecord> recs, String classifier) {
        int votes = recs.get(0).votes();
        String who = undefended(c) ? "Predictions of " + classifier + "."
                : votes > 1 ? "Predictions of the defended " + classifier + ", each the majority of " + votes
                        + " purifications; the purified image shown is one more draw."
                : "Predictions of the defended " + classifier + " (of the clean and of the purified image).";
        return List.of("Attack: " + c.budget() + ". Gradient: " + c.gradientMode() + ".",
                who + " Green: the true class; red: another class. The first images of the run's first chunk.");
    }

    private static boolean undefended(Report.CellSummary c) {
        return c.defense().equals("none");
    }

    private static ImagePanel.Caption prediction(List<String> classes, int label, boolean right) {
        return new ImagePanel.Caption(name(classes, label), right ? ImagePanel.RIGHT : ImagePanel.WRONG);
    }

    /** How far the adversarial input moved: the patch's area, or the ℓ∞ distance. */
    private static String size(SampleRecord r) {
        return r.patchArea() != null ? String.format(Locale.ROOT, "patch %.0f px", r.patchArea())
                : String.format(Locale.ROOT, "L∞ %.3f  L2 %.2f", r.distLinf(), r.distL2());
    }

    private static String name(List<String> classes, int label) {
        return label >= 0 && label < classes.size() ? classes.get(label) : "class " + label;
    }

    /**
     * The classifier's class names from its model card or description; class numbers when it cannot be read (a
     * run copied to a machine without that model, a TorchScript file moved): names label the picture, nothing more.
     */
    private static List<String> classNames(String classifier) {
        try {
            return Classifiers.describe(classifier).classNames();
        } catch (RuntimeException e) {
            return List.of();
        }
    }
}
