package org.lustra.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lustra.cli.BenchProfile.Kind;
import org.lustra.cli.BenchProfile.OpTime;

class BenchProfileTest {

    @Test
    void givenNestedOperatorsWhenSummarisedThenSelfTimeExcludesChildrenPerThread(@TempDir Path dir) throws Exception {
        // conv2d [0, 100) calls mkldnn_convolution [10, 90); add [120, 130) follows; on another thread an add
        // [5, 45) overlaps conv2d in time but is not its child.
        Path trace = dir.resolve("t.json");
        Files.writeString(trace, "[" + event("aten::conv2d", 1, 0, 100) + "," + event("aten::mkldnn_convolution", 1,
                10, 80) + "," + event("aten::add", 1, 120, 10) + "," + event("aten::add", 2, 5, 40) + ","
                + "{\"name\": \"marker\", \"ph\": \"i\", \"ts\": 3, \"tid\": 1}]");

        List<OpTime> ops = BenchProfile.summarise(trace);

        OpTime conv = find(ops, "aten::conv2d");
        assertEquals(0.020, conv.selfMs(), 1e-9);
        assertEquals(0.100, conv.totalMs(), 1e-9);
        assertEquals(0.080, find(ops, "aten::mkldnn_convolution").selfMs(), 1e-9);
        OpTime add = find(ops, "aten::add");
        assertEquals(2, add.calls());
        assertEquals(0.050, add.selfMs(), 1e-9);
        assertEquals("aten::mkldnn_convolution", ops.get(0).name(), "largest self time first");
        Map<Kind, Double> kinds = BenchProfile.byKind(ops);
        assertEquals(0.100, kinds.get(Kind.CONVOLUTION), 1e-9);
        assertEquals(0.050, kinds.get(Kind.OTHER), 1e-9);
        assertEquals(0.0, kinds.get(Kind.NORMALISATION), 1e-9);
    }

    @Test
    void givenAMatrixProductWhenProfiledByTheEngineThenItsTraceIsReadAsAMatrixProduct(@TempDir Path dir) {
        Path trace = dir.resolve("engine.json");
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.randomUniform(-1, 1, new Shape(64, 64));
            BenchProfile.record(trace, 2, i -> a.matMul(a).close());
        }

        List<OpTime> ops = BenchProfile.summarise(trace);

        assertTrue(BenchProfile.byKind(ops).get(Kind.MATRIX_PRODUCT) > 0, "no matrix product in " + ops);
        assertTrue(ops.stream().anyMatch(o -> o.name().contains("mm") && o.calls() >= 2), ops.toString());
    }

    private static String event(String name, int tid, double ts, double dur) {
        return String.format(java.util.Locale.ROOT, "{\"name\": \"%s\", \"ph\": \"X\", \"ts\": %s, \"dur\": %s, "
                + "\"pid\": \"CPU Functions\", \"tid\": %d}", name, ts, dur, tid);
    }

    private static OpTime find(List<OpTime> ops, String name) {
        return ops.stream().filter(o -> o.name().equals(name)).findFirst().orElseThrow();
    }
}
