package org.lustra.eval.calibration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.util.LustraException;

/** The sweep's journal: a new one starts with its settings, a resumed one keeps its rows, another sweep is refused. */
class HeteroSweepJournalTest {
    private static final HeteroSweep.Settings SETTINGS = new HeteroSweep.Settings("classifier-resnet",
            "diffusion-unified", "data/validation images 4000..4031", 32, 0.0313725, 20, 1, 32);

    @TempDir
    Path dir;

    @Test
    void givenNoJournal_whenRead_thenItIsCreatedWithTheSettingsLine() throws Exception {
        Path j = dir.resolve("sub/j.jsonl");
        assertTrue(SweepJournal.read(j, SETTINGS).isEmpty());
        assertEquals(new Gson().toJson(SETTINGS), Files.readAllLines(j).get(0));
    }

    @Test
    void givenRowsAndATornLastLine_whenRead_thenTheRowsComeBackAndTheTornLineIsDropped() throws Exception {
        Path j = dir.resolve("j.jsonl");
        SweepJournal.read(j, SETTINGS);
        HeteroSweep.Row row = new HeteroSweep.Row("hetero:tau0.9", "hetero:tau0.9", 1, "vote", 27, 20, 32, 0.05,
                0.06, 110.0);
        Files.writeString(j, new Gson().toJson(row) + "\n{\"id\":\"hetero:ta", StandardCharsets.UTF_8,
                StandardOpenOption.APPEND);
        Map<String, HeteroSweep.Row> rows = SweepJournal.read(j, SETTINGS);
        assertEquals(Map.of("hetero:tau0.9", row), rows);
    }

    @Test
    void givenALineWrittenBeforeReferencesExisted_whenRead_thenItIsACandidateRow() throws Exception {
        Path j = dir.resolve("j.jsonl");
        SweepJournal.read(j, SETTINGS);
        Files.writeString(j, "{\"id\":\"hetero:tau0.9\",\"spec\":\"hetero:tau0.9\",\"members\":1,\"aggregation\":"
                + "\"vote\",\"clean\":27,\"robust\":20,\"images\":32,\"cleanMaskShare\":0.05,"
                + "\"adversarialMaskShare\":0.06,\"seconds\":110.0}\n", StandardCharsets.UTF_8,
                StandardOpenOption.APPEND);
        HeteroSweep.Row row = SweepJournal.read(j, SETTINGS).get("hetero:tau0.9");
        assertEquals(new HeteroSweep.Row("hetero:tau0.9", "hetero:tau0.9", 1, "vote", 27, 20, 32, 0.05, 0.06, 110.0),
                row);
        assertFalse(row.reference());
    }

    @Test
    void givenAJournalOfOtherSettings_whenRead_thenOneSentenceSaysToDeleteOrRerun() {
        Path j = dir.resolve("j.jsonl");
        SweepJournal.read(j, SETTINGS);
        HeteroSweep.Settings more = new HeteroSweep.Settings("classifier-resnet", "diffusion-unified",
                "data/validation images 4000..4063", 64, 0.0313725, 20, 1, 32);
        LustraException e = assertThrows(LustraException.class, () -> SweepJournal.read(j, more));
        assertTrue(e.getMessage().contains("other settings") && !e.getMessage().contains("\n"), e.getMessage());
    }
}
