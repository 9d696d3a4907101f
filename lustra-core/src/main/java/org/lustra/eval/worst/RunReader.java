package org.lustra.eval.worst;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.lustra.eval.CellInfo;
import org.lustra.eval.Experiment;
import org.lustra.eval.Manifest;
import org.lustra.eval.RunDirectory;
import org.lustra.eval.SampleRecord;
import org.lustra.util.LustraException;

/**
 * Reads the run folders of one study for {@link CrossRunWorst}: checks that they name the same images with the same
 * models (classifier, subset, diffusion model, and every model and data hash any two of them record), and files each
 * cell with records under its defence (as it ran: {@link CellInfo#defendedBy}) and {@link Threat}.
 */
final class RunReader {
    private RunReader() {}

    /** A defence as it ran under one threat: one row of the worst case. */
    record Key(String defence, Threat threat) {}

    /** A run folder as read: its manifest and the whole journal lines it had (read once, so counts agree). */
    record Folder(String label, Manifest manifest, List<SampleRecord> records) {}

    record Loaded(String classifier, String subset, List<CrossRunWorst.Run> runs, Map<Key, List<TriedCell>> groups,
            List<Folder> folders) {}

    static Loaded read(List<Path> dirs) {
        if (dirs.isEmpty()) {
            throw new LustraException("Give at least one run folder (a folder `lustra eval run --out` wrote).");
        }
        List<CrossRunWorst.Run> runs = new ArrayList<>();
        List<Folder> folders = new ArrayList<>();
        Map<Key, List<TriedCell>> groups = new LinkedHashMap<>();
        Set<Path> seen = new HashSet<>();
        Map<String, String> hashes = new HashMap<>(); // every hash an earlier run recorded, the first one kept
        Manifest first = null;
        String firstLabel = null;
        for (Path dir : dirs) {
            String label = dir.toString();
            RunDirectory run = new RunDirectory(dir);
            if (!run.hasManifest()) {
                throw new LustraException(dir + " is not a run folder (no " + RunDirectory.MANIFEST + "); give folders "
                        + "`lustra eval run --out` wrote.");
            }
            if (!seen.add(realPath(dir))) {
                throw new LustraException("Run folder " + dir + " is given twice; give each folder once.");
            }
            Manifest m = run.readManifest();
            if (first == null) {
                first = m;
                firstLabel = label;
            } else {
                requireSameImages(firstLabel, first, label, m);
            }
            requireSameInputs(label, m, hashes);
            int[] torn = new int[1];
            List<SampleRecord> records = Files.isRegularFile(run.samplesFile())
                    ? run.readWholeRecords(n -> torn[0] = n) : List.of(); // a run that has not finished a chunk yet
            runs.add(cells(label, records, torn[0], m, groups));
            folders.add(new Folder(label, m, records));
        }
        return new Loaded(first.classifier(), first.experiment().subset(), runs, groups, folders);
    }

    private static Path realPath(Path dir) {
        try {
            return dir.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot resolve " + dir, e);
        }
    }

    /** Image i of two runs is the same image only under one classifier and subset; a defence the same under one model. */
    private static void requireSameImages(String aLabel, Manifest a, String bLabel, Manifest b) {
        Experiment ea = a.experiment();
        Experiment eb = b.experiment();
        if (!a.classifier().equals(b.classifier()) || !ea.subset().equals(eb.subset())) {
            throw new LustraException("Run folders " + aLabel + " and " + bLabel + " evaluate different things ("
                    + a.classifier() + " on " + ea.subset() + " vs " + b.classifier() + " on " + eb.subset()
                    + "); records of several folders combine (per-image worst case, seeds pooled) only under one "
                    + "classifier and one subset: give folders of one study.");
        }
        if (!ea.diffusionModel().equals(eb.diffusionModel())) {
            throw new LustraException("Run folders " + aLabel + " and " + bLabel + " ran their diffusion defences on "
                    + "different models (" + ea.diffusionModel() + " vs " + eb.diffusionModel() + "), which the "
                    + "defences' names do not tell apart; give folders made with one diffusion model.");
        }
    }

    private static void requireSameInputs(String label, Manifest m, Map<String, String> earlier) {
        List<String> changed = m.changedInputs(earlier);
        if (!changed.isEmpty()) {
            throw new LustraException("Run folder " + label + " used other inputs than an earlier folder: "
                    + String.join(", ", changed).replace(" → ", " vs earlier ") + "; its images or models are not "
                    + "the same, so the records cannot be combined per image.");
        }
        if (m.hashes() != null) {
            m.hashes().forEach(earlier::putIfAbsent);
        }
    }

    /** Files the run's cells that have records under their groups; returns what the run is. */
    private static CrossRunWorst.Run cells(String label, List<SampleRecord> records, int torn, Manifest m,
            Map<Key, List<TriedCell>> groups) {
        Map<String, Map<Long, Map<Integer, SampleRecord>>> byCell = new HashMap<>();
        for (SampleRecord r : records) {
            if (Boolean.TRUE.equals(r.nonFinite())) {
                throw new LustraException("Run folder " + label + " has a non-finite record (" + r.cell() + ", seed "
                        + r.seed() + ", image " + r.index() + "): the harness flagged a failed attack there; find its "
                        + "cause (see the run's report.md), redo the cell (`lustra eval run <config> --out " + label
                        + " --redo <cell>`), then combine.");
            }
            byCell.computeIfAbsent(r.cell(), k -> new HashMap<>()).computeIfAbsent(r.seed(), k -> new HashMap<>())
                    .put(r.index(), r);
        }
        Map<String, CellInfo> infos = m.cells() == null ? Map.of() : m.cells();
        for (Experiment.Cell c : m.experiment().cells()) {
            Map<Long, Map<Integer, SampleRecord>> rs = byCell.get(c.id());
            if (rs == null) {
                continue;
            }
            CellInfo info = infos.get(c.id());
            String defence = info == null ? c.defense() : info.defendedBy();
            String attack = c.attack().family() + " " + c.mode() + " (" + m.experiment().profile() + ")";
            groups.computeIfAbsent(new Key(defence, threat(label, c)), k -> new ArrayList<>()).add(new TriedCell(label,
                    c.id(), c.defense(), c.mode(), attack, info == null ? "" : info.gradientMode(), rs));
        }
        // counted as the run's report counts them: every cell of the manifest, route cells included
        long expected = (long) m.images() * m.experiment().seeds().size() * Math.max(infos.size(),
                m.experiment().cells().size());
        return new CrossRunWorst.Run(label, m.experiment().name(), m.gitCommit(), records.size(), expected, torn);
    }

    private static Threat threat(String label, Experiment.Cell c) {
        try {
            return Threat.of(c.attack());
        } catch (IllegalArgumentException e) {
            throw new LustraException("Run folder " + label + ", cell " + c.id() + ": " + e.getMessage()
                    + "; folders are combined by threat and budget, so every attack needs a budget above 0.", e);
        }
    }
}
