package org.lustra.nn;

import static org.junit.jupiter.api.Assertions.assertNull;

import ai.djl.engine.Engine;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/**
 * The engine this suite runs on must give right convolution input gradients for batches: every gradient test and
 * every attack rests on it (see {@link ConvolutionCheck}; the Maven setup sets DNNL_MAX_CPU_ISA=AVX for the CPUs
 * that need it). Fails with the probe's sentence on an engine that computes them wrong.
 */
class ConvolutionCheckTest {
    @Test
    void givenThisMachinesEngine_whenBatchedConvolutionInputGradientsAreProbed_thenTheyEqualPerImageGradients() {
        assertNull(ConvolutionCheck.problem());
    }

    @Test
    void givenAnAttacksGradientCollectorIsOpen_whenTheProbeRuns_thenItStillWorks() {
        // the probe runs on first use, which can be inside an attack's collector (DJL allows one at a time)
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            assertNull(ConvolutionCheck.probe());
        }
    }
}
