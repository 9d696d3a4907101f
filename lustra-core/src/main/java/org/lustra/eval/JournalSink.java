package org.lustra.eval;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.IntUnaryOperator;
import org.lustra.util.LustraException;
import org.lustra.util.Progress;

/**
 * The runner's end of a {@link ChunkEngine}: appends each chunk handed back to the journal once, and only whole. A
 * chunk that is not pending (finished before, or handed back a second time by a retried task) is dropped, so nothing
 * is counted twice; an incomplete one is an error and nothing of it is written, so the next run redoes it.
 */
final class JournalSink implements ChunkEngine.Sink {
    private final RunDirectory dir;
    private final IntUnaryOperator chunkSize;
    private final Set<String> open = new HashSet<>();
    private final Progress progress;
    private final Consumer<String> log;
    private long images;
    private long written;

    JournalSink(RunDirectory dir, IntUnaryOperator chunkSize, List<RunDirectory.ChunkKey> pending, Progress progress,
            long doneImages, Consumer<String> log) {
        this.dir = dir;
        this.chunkSize = chunkSize;
        pending.forEach(k -> open.add(k.text()));
        this.progress = progress;
        this.images = doneImages;
        this.log = log;
    }

    @Override
    public void accept(RunDirectory.ChunkKey key, List<SampleRecord> records) {
        if (!open.contains(key.text())) {
            log.accept("Chunk " + key.text() + " is already in the journal or not part of this run; dropped");
            return;
        }
        requireWhole(key, records);
        dir.append(records);
        open.remove(key.text());
        written++;
        images += chunkSize.applyAsInt(key.chunk());
        progress.update(images, key.cell());
    }

    /** Every pending chunk has been written. */
    boolean finished() {
        return open.isEmpty();
    }

    /** Images evaluated so far, this run's and earlier runs'. */
    long images() {
        return images;
    }

    /** Chunks written by this sink. */
    long written() {
        return written;
    }

    /** A whole chunk: every record belongs to it (its cell or the cell's routes), one per image for the cell. */
    private void requireWhole(RunDirectory.ChunkKey key, List<SampleRecord> records) {
        long own = 0;
        for (SampleRecord r : records) {
            boolean cell = r.cell().equals(key.cell());
            if (r.seed() != key.seed() || r.chunk() != key.chunk() || !(cell || r.cell().startsWith(key.cell() + "@"))) {
                throw new LustraException("Chunk " + key.text() + " came back with a record of another chunk ("
                        + r.seed() + "#" + r.cell() + "#" + r.chunk() + "); nothing of it was written.");
            }
            own += cell ? 1 : 0;
        }
        int expected = chunkSize.applyAsInt(key.chunk());
        if (own != expected) {
            throw new LustraException("Chunk " + key.text() + " came back with " + own + " of its " + expected
                    + " records; nothing of it was written.");
        }
    }
}
