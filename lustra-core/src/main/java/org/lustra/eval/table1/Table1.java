package org.lustra.eval.table1;

import java.nio.file.Files;
import java.nio.file.Path;
import org.lustra.util.LustraException;

/**
 * The DIFFender Table 1 analogue, assembled from several {@code lustra eval run} folders named by a
 * {@code table1.json} ({@link Table1Spec}).
 *
 * <p>Why several run folders: the harness keeps one image count per run and refuses a changed config in an existing
 * folder, so adaptive cells (256 images), non-adaptive cells (512), the costly black-box and GDPA cells (fewer images)
 * and rows added later (the diffusion defences, once their model is trained) each live in their own run folder. The
 * table only reads their {@code report.json} and {@code samples.jsonl}: it computes nothing the harness did not
 * record, except the per-image worst case over a defence's adaptive attacks ({@link Table1WorstCase}).
 */
public final class Table1 {
    private Table1() {}

    /**
     * The table of {@code folder} as Markdown (ending with a newline). {@code shownAs} is the folder as the header
     * names it in the command that regenerates the table (the path a user typed, not an absolute one).
     */
    public static String markdown(Path folder, String shownAs) {
        if (!Files.isDirectory(folder)) {
            throw new LustraException(folder + " is not a folder; give the folder that holds " + Table1Spec.FILE
                    + " and the run folders it lists (e.g. docs/results/table1-resnet).");
        }
        Table1Spec spec = Table1Spec.read(folder);
        return Table1Markdown.render(spec, Table1Runs.read(folder, spec), shownAs);
    }
}
