package org.lustra.nn;

import static org.junit.jupiter.api.Assertions.assertNull;

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
}
