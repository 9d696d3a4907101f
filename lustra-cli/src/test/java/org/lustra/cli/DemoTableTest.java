package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lustra.eval.Report;

class DemoTableTest {
    private static Report.CellSummary cell(String defense, String mode, double robust) {
        return new Report.CellSummary(defense + "|lavan|" + mode, defense, mode, "lavan", "patch 10%", "STE through "
                + defense + " with EOT 2, full length", "adaptive white-box attacker", 8, 1, 1.0, robust, 0, 0, 1,
                null, 20, 0.9, 0, 0, 100, 1, null, 0, 0, 0, 0, 0, 0, List.of(), null, null, null);
    }

    @Test
    void givenADefenceSpecLongerThanTheColumn_whenTheTableIsPrinted_thenEveryRowKeepsItsColumnsAligned() {
        String longSpec = "diffender:ep:rec:abar0.7:theta2.5";
        Report.Summary summary = new Report.Summary("demo-lavan", "quick", "classifier-resnet", "abc", "now",
                List.of(1L), List.of(cell("none", "undefended", 0.75), cell("jpeg:75", "nonadaptive", 0.875),
                        cell("jpeg:75", "adaptive", 0.625), cell(longSpec, "nonadaptive", 0.625),
                        cell(longSpec, "adaptive", 0.75)), List.of(), 40, 40, List.of());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DemoTable.print(new PrintStream(bytes, true, StandardCharsets.UTF_8), new DemoPlan.Threat("lavan", "LaVAN",
                null), summary);

        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().skip(1).toList();
        assertEquals(4, lines.size(), String.join("\n", lines));
        int clean = lines.get(0).indexOf("clean") + "clean".length();
        for (String line : lines.subList(1, lines.size())) {
            assertEquals(clean, line.indexOf("8/8") + "8/8".length(), "clean column ends where its header does:\n"
                    + String.join("\n", lines));
        }
        assertTrue(lines.get(3).startsWith("  " + longSpec + " "), lines.get(3));
    }
}
