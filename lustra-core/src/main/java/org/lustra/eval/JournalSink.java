package org.lustra.eval;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntUnaryOperator;
import org.lustra.util.LustraException;
import org.lustra.util.Progress;

/**
 * The runner's end of a {@link ChunkEngine}: appends each chunk handed back to the journal once, and only whole. A
 * chunk that is not pending (finished before, or handed back a second time by a retried task) is dropped, so nothing
 * is counted twice; an incomplete one is an error and nothing of it is written, so the next run redoes it.
 *
 * <p>What it counts: chunks written, and <em>image evaluations</em> — one per record, so a worst-of chunk of n images
 * over R routes counts n·(1 + R) (each route's attack and judging of every image is written as a record of its route
 * cell, before the cell's own). That is the unit of the run's progress total and of the report's "N of M image
 * evaluations" ({@link Report}: images × seeds × every cell of the manifest, route cells included). "Whole" means the
 * cell's n records and n records of every route cell the manifest lists for it, and nothing else.
 */
final class JournalSink implements ChunkEngine.Sink {
    private final RunDirectory dir;
    private final IntUnaryOperator chunkSize;
    private final Function<String, List<String>> routeCells;
    private final Set<String> open = new HashSet<>();
    private final Progress progress;
    private final Consumer<String> log;
    private final RouteCheckpoints checkpoints;
    private long images;
    private long written;

    /**
     * @param routeCells the route cells of a cell id (empty for single-route cells), as {@link Manifest#routeCells}
     * @param doneImages image evaluations (records) of the chunks finished before this run
     * @param checkpoints the run's saved routes, cleared per journaled chunk; null when the engine keeps none
     */
    JournalSink(RunDirectory dir, IntUnaryOperator chunkSize, Function<String, List<String>> routeCells,
            List<RunDirectory.ChunkKey> pending, Progress progress, long doneImages, RouteCheckpoints checkpoints,
            Consumer<String> log) {
        this.dir = dir;
        this.chunkSize = chunkSize;
        this.routeCells = routeCells;
        pending.forEach(k -> open.add(k.text()));
        this.progress = progress;
        this.images = doneImages;
        this.log = log;
        this.checkpoints = checkpoints;
    }

    @Override
    public void accept(RunDirectory.ChunkKey key, List<SampleRecord> records) {
        if (!open.contains(key.text())) {
            log.accept("Chunk " + key.text() + " is already in the journal or not part of this run; dropped");
            return;
        }
        requireWhole(key, records);
        dir.append(records);
        if (checkpoints != null) {
            checkpoints.clear(key); // the chunk is whole in the journal: its routes' checkpoints have served
        }
        open.remove(key.text());
        written++;
        images += records.size();
        progress.update(images, key.cell());
    }

    /** Every pending chunk has been written. */
    boolean finished() {
        return open.isEmpty();
    }

    /** Image evaluations (records, route records included) so far, this run's and earlier runs'. */
    long images() {
        return images;
    }

    /** Chunks written by this sink. */
    long written() {
        return written;
    }

    /**
     * A whole chunk: every record belongs to it, one per image for the cell and for each of its route cells, and no
     * route cell the manifest does not list (a chunk with a route missing or cut short would be written as finished,
     * and the next run would then find an unfinished route and redo the chunk on top of it).
     */
    private void requireWhole(RunDirectory.ChunkKey key, List<SampleRecord> records) {
        Map<String, Integer> perCell = new LinkedHashMap<>();
        perCell.put(key.cell(), 0);
        routeCells.apply(key.cell()).forEach(r -> perCell.put(r, 0));
        for (SampleRecord r : records) {
            if (r.seed() != key.seed() || r.chunk() != key.chunk() || !perCell.containsKey(r.cell())) {
                throw new LustraException("Chunk " + key.text() + " came back with a record of another chunk ("
                        + r.seed() + "#" + r.cell() + "#" + r.chunk() + "); nothing of it was written.");
            }
            perCell.merge(r.cell(), 1, Integer::sum);
        }
        int expected = chunkSize.applyAsInt(key.chunk());
        for (Map.Entry<String, Integer> e : perCell.entrySet()) {
            if (e.getValue() != expected) {
                throw new LustraException("Chunk " + key.text() + " came back with " + e.getValue() + " of its "
                        + expected + " records of " + e.getKey() + "; nothing of it was written.");
            }
        }
    }
}
