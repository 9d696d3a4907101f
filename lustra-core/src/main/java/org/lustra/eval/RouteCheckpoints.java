package org.lustra.eval;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.lustra.attack.Attack;
import org.lustra.attack.GradientCounts;
import org.lustra.util.Files2;
import org.lustra.util.Json;

/**
 * The finished routes of a chunk not yet in the journal. The harness journals whole chunks, and a chunk of a worst-of
 * cell runs several adaptive attacks one after the other (DIFFender's headline cell: four routes, ≈ 40 min per chunk
 * of 16 images on one thread), so a stop used to lose every route the chunk had finished. Each route's outcome — the
 * attack's final inputs and its counters, everything the route's records are made of besides the judging votes,
 * which are recomputed from their own seeds — is kept under {@code partial/} until the chunk reaches the journal; a
 * rerun takes it instead of attacking again. The files are small (the chunk's images as floats) and may be committed
 * with an unfinished run folder, so that a fresh machine resumes where the last one stopped.
 *
 * <p>Each file carries a fingerprint of the experiment, its image count and the hashes of its inputs (weights, data):
 * a route made for other inputs is never taken. Code is not in the fingerprint, as it is not for finished chunks: a
 * resume at another commit keeps what is done and the manifest's history says which commits finished the run. Only
 * the local engine keeps checkpoints: Spark executors may not share the driver's folder, which alone clears them.
 */
final class RouteCheckpoints {
    static final String FOLDER = "partial";
    /** Bumped when the layout changes; a file of another version is ignored (the route is attacked again). */
    private static final int VERSION = 2;

    /** A route's outcome as the attack returned it, and the milliseconds per image it took then. */
    record Saved(Attack.Outcome outcome, double msPerImage) {}

    private final Path folder;
    private final String fingerprint;
    private final Consumer<String> log;

    /** @param fingerprint what a saved route must have been made for ({@link #fingerprint}) */
    RouteCheckpoints(RunDirectory dir, String fingerprint, Consumer<String> log) {
        this.folder = dir.path().resolve(FOLDER);
        this.fingerprint = fingerprint;
        this.log = log;
    }

    /** SHA-256 of the experiment as JSON, its image count and its input hashes in key order. */
    static String fingerprint(Experiment exp, int images, Map<String, String> inputHashes) {
        StringBuilder text = new StringBuilder(Json.GSON.toJson(exp)).append('\n').append(images);
        new TreeMap<>(inputHashes).forEach((k, v) -> text.append('\n').append(k).append('=').append(v));
        return Files2.sha256(text.toString().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A finished route's outcome for this chunk, if one was saved and fits the chunk: {@code n} images,
     * {@code imageLength} floats of images (N·C·H·W) and, for patch attacks, {@code maskLength} of masks (N·H·W).
     */
    Optional<Saved> load(long seed, String cellId, int chunk, String routeTag, int n, int imageLength,
            int maskLength) {
        Path f = file(seed, cellId, chunk, routeTag);
        if (!Files.exists(f)) {
            return Optional.empty();
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(Files.readAllBytes(f)))) {
            if (in.readInt() != VERSION || !in.readUTF().equals(fingerprint) || in.readInt() != n) {
                log.accept("Ignoring " + f + ": written by another version, for other inputs (experiment, weights, "
                        + "data) or for another chunk size; the route is attacked again");
                return Optional.empty();
            }
            float[] adversarial = floats(in);
            float[] masks = in.readBoolean() ? floats(in) : null;
            if (adversarial.length != imageLength || (masks != null && masks.length != maskLength)) {
                log.accept("Ignoring " + f + ": its images do not have this chunk's size; the route is attacked again");
                return Optional.empty();
            }
            long forward = in.readLong();
            GradientCounts gradients = new GradientCounts(in.readLong(), in.readLong(), in.readLong());
            int warnings = in.readInt();
            List<Attack.Warning> ws = new ArrayList<>(warnings);
            for (int i = 0; i < warnings; i++) {
                ws.add(new Attack.Warning(in.readUTF(), in.readUTF()));
            }
            double ms = in.readDouble();
            return Optional.of(new Saved(new Attack.Outcome(adversarial, masks, forward, gradients, ws), ms));
        } catch (IOException | RuntimeException e) {
            // Files2 renames whole files into place, but a crash before the data reached the disk or a damaged
            // checkout can leave a short one
            log.accept("Ignoring " + f + " (" + e.getMessage() + "); the route is attacked again");
            return Optional.empty();
        }
    }

    /** Keeps a finished route's outcome until its chunk is journaled. */
    void save(long seed, String cellId, int chunk, String routeTag, int n, Attack.Outcome o, double msPerImage) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(VERSION);
            out.writeUTF(fingerprint);
            out.writeInt(n);
            floats(out, o.adversarial());
            out.writeBoolean(o.masks() != null);
            if (o.masks() != null) {
                floats(out, o.masks());
            }
            out.writeLong(o.forwardImages());
            out.writeLong(o.gradients().rows());
            out.writeLong(o.gradients().nonFinite());
            out.writeLong(o.gradients().zero());
            out.writeInt(o.warnings().size());
            for (Attack.Warning w : o.warnings()) {
                out.writeUTF(w.source());
                out.writeUTF(w.message());
            }
            out.writeDouble(msPerImage);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        Files2.writeAtomically(file(seed, cellId, chunk, routeTag), bytes.toByteArray());
    }

    /** Forgets the saved routes of a chunk (it is in the journal now). */
    void clear(RunDirectory.ChunkKey key) {
        delete(name -> name.startsWith(prefix(key.cell())) && name.endsWith(suffix(key)));
    }

    /** Forgets every saved route of a cell in {@code dir} (a redo drops the cell: its routes were other code's). */
    static void forgetCell(RunDirectory dir, String cellId) {
        new RouteCheckpoints(dir, "", s -> { }).clearCell(cellId);
    }

    /** Forgets every saved route of a cell. */
    void clearCell(String cellId) {
        delete(name -> name.startsWith(prefix(cellId)) && name.endsWith(".bin"));
    }

    /**
     * Forgets what no pending chunk can use: routes of chunks already journaled (a kill between the journal's append
     * and {@link #clear}), of cells no longer in the run, and temporary files a kill left mid-write.
     */
    void retainOnly(List<RunDirectory.ChunkKey> pending) {
        delete(name -> pending.stream().noneMatch(k -> name.startsWith(prefix(k.cell())) && name.endsWith(suffix(k))));
    }

    private void delete(Predicate<String> which) {
        if (!Files.isDirectory(folder)) {
            return;
        }
        try (var files = Files.list(folder)) {
            for (Path p : files.filter(p -> which.test(p.getFileName().toString())).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot clear " + folder, e);
        }
        try {
            Files.delete(folder); // an empty folder is not left in a committed run folder
        } catch (IOException notEmptyOrGone) {
            // other routes are kept in it
        }
    }

    Path file(long seed, String cellId, int chunk, String routeTag) {
        return folder.resolve(prefix(cellId) + RunDirectory.safe(routeTag)
                + suffix(new RunDirectory.ChunkKey(seed, cellId, chunk)));
    }

    /** The end of every saved route's file name of a chunk; the leading '-' keeps seed 1 from matching seed 11. */
    private static String suffix(RunDirectory.ChunkKey key) {
        return "-seed" + key.seed() + "-chunk" + key.chunk() + ".bin";
    }

    private static String prefix(String cellId) {
        return RunDirectory.safe(cellId) + "__route-";
    }

    private static float[] floats(DataInputStream in) throws IOException {
        int len = in.readInt();
        if (len < 0 || len > 1 << 28) {
            throw new IOException("implausible length " + len);
        }
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = in.readFloat();
        }
        return a;
    }

    private static void floats(DataOutputStream out, float[] a) throws IOException {
        out.writeInt(a.length);
        for (float v : a) {
            out.writeFloat(v);
        }
    }
}
