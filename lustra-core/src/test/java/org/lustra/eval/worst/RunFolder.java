package org.lustra.eval.worst;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lustra.eval.CellInfo;
import org.lustra.eval.Experiment;
import org.lustra.eval.Manifest;
import org.lustra.eval.RunDirectory;
import org.lustra.eval.SampleRecord;

/**
 * A tiny run folder as {@code lustra eval run} leaves it, for the worst-case tests: one defence (its config spec and
 * the purifier name it ran under) in one mode under PGD ℓ∞ 8/255 and 0.1 (or given attacks), a journal of robust /
 * fooled records per cell and run seed.
 */
final class RunFolder {
    private final String name;
    private String subset = "digits-holdout~shuffled";
    private String mode = "adaptive";
    private String spec = "disco";
    private String purifier = "disco";
    private String profile = "quick";
    private Map<String, String> hashes;
    private List<Experiment.AttackConfig> attacks = List.of(Experiment.AttackConfig.builder("pgd").optNorm("linf")
            .optEps(0.0313725, 0.1).build());
    private final List<SampleRecord> records = new ArrayList<>();
    private boolean journal = true;
    private long[] seeds = {1L};
    private List<String> routes = List.of();
    private int images = 4;

    RunFolder(String name) {
        this.name = name;
    }

    RunFolder subset(String value) {
        subset = value;
        return this;
    }

    RunFolder mode(String value) {
        mode = value;
        return this;
    }

    /** The defence: its config spec and the name its purifier ran under. */
    RunFolder defence(String specValue, String purifierName) {
        spec = specValue;
        purifier = purifierName;
        return this;
    }

    RunFolder profile(String value) {
        profile = value;
        return this;
    }

    RunFolder hashes(Map<String, String> value) {
        hashes = value;
        return this;
    }

    RunFolder attacks(Experiment.AttackConfig... value) {
        attacks = List.of(value);
        return this;
    }

    /** The run seeds the manifest lists (default: 1). */
    RunFolder seeds(long... value) {
        seeds = value.clone();
        return this;
    }

    /** Worst-of routes: each cell also lists a route cell {@code id@ROUTE}, as a worst-of run's manifest does. */
    RunFolder routes(String... value) {
        routes = List.of(value);
        return this;
    }

    /** The image count the manifest lists (default: 4). */
    RunFolder images(int value) {
        images = value;
        return this;
    }

    /** No samples.jsonl: a run that has not finished a chunk. */
    RunFolder noJournal() {
        journal = false;
        return this;
    }

    /** Records of cell {@code id} under run seed 1, image i robust or fooled. */
    RunFolder cell(String id, boolean... robust) {
        return cell(id, 1, robust);
    }

    RunFolder cell(String id, long seed, boolean... robust) {
        for (int i = 0; i < robust.length; i++) {
            records.add(record(id, seed, i, robust[i], false));
        }
        return this;
    }

    /** A record flagged non-finite (an attack whose output had a NaN pixel). */
    RunFolder nonFinite(String id) {
        records.add(record(id, 1, 0, true, true));
        return this;
    }

    static SampleRecord record(String cell, long seed, int index, boolean robust, boolean nonFinite) {
        return new SampleRecord(seed, cell, 0, index, 3, 3, robust ? 3 : 4, true, robust, null, 1, 0.03, 1.0, 30.0,
                0.9, null, 4.0, 10, robust, nonFinite, null, 40L, 0L, 0L, null);
    }

    Path write(Path tmp) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Experiment exp = Experiment.builder(name, "classifier-digits").optSubset(subset).optImages(images)
                .optProfile(profile).optSeeds(seeds).optDefenses(spec).optModes(mode)
                .optAttacks(attacks).build();
        Map<String, CellInfo> infos = new LinkedHashMap<>();
        for (Experiment.Cell c : exp.cells()) {
            infos.put(c.id(), new CellInfo(spec, c.attack().id(), mode, mode.equals("adaptive") ? "EXACT through "
                    + purifier : "EXACT on the classifier alone", purifier + " -> classifier-digits", "budget"));
            for (String route : routes) {
                infos.put(c.id() + "@" + route, new CellInfo(spec, c.attack().id(), mode + "@" + route, route
                        + " through " + purifier, purifier + " -> classifier-digits", "budget"));
            }
        }
        new RunDirectory(dir).writeManifest(new Manifest(exp, "2026-12-03", "abc", Map.of(), infos, images,
                "classifier-digits", List.of(), hashes, null));
        if (journal) {
            List<String> lines = records.stream().map(RunDirectory::line).toList();
            Files.writeString(dir.resolve(RunDirectory.SAMPLES), String.join("\n", lines) + "\n",
                    StandardCharsets.UTF_8);
        }
        return dir;
    }
}
