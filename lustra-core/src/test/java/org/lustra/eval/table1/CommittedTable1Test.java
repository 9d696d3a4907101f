package org.lustra.eval.table1;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.lustra.util.LustraHome;

/** The committed table is what the command makes of the committed run folders (it reads files only: fast). */
class CommittedTable1Test {
    private static final String FOLDER = "docs/results/table1-resnet";

    @Test
    void givenTheCommittedRunFolders_whenTheTableIsRegenerated_thenItEqualsTheCommittedTableByteForByte()
            throws Exception {
        Path folder = LustraHome.root().resolve(FOLDER);

        String table = Table1.markdown(folder, FOLDER);

        assertEquals(Files.readString(folder.resolve("TABLE.md"), StandardCharsets.UTF_8), table);
    }
}
