package org.lustra.eval.table1;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lustra.util.LustraHome;

/** The committed tables are what the command makes of the committed run folders (it reads files only: fast). */
class CommittedTable1Test {

    @ParameterizedTest
    @ValueSource(strings = {"docs/results/table1-resnet", "docs/results/table1-vit"})
    void givenTheCommittedRunFolders_whenTheTableIsRegenerated_thenItEqualsTheCommittedTableByteForByte(String folder)
            throws Exception {
        Path dir = LustraHome.root().resolve(folder);

        String table = Table1.markdown(dir, folder);

        assertEquals(Files.readString(dir.resolve("TABLE.md"), StandardCharsets.UTF_8), table);
    }
}
