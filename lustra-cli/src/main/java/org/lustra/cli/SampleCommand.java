package org.lustra.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.Collections;
import java.util.concurrent.Callable;
import org.lustra.data.ImageFiles;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSource;
import org.lustra.diffusion.Sampler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "sample", mixinStandardHelpOptions = true,
        description = "Generate images from a text prompt with the unified diffusion model and write a PNG grid.")
final class SampleCommand implements Callable<Integer> {
    @Option(names = "--prompt", required = true, description = "Prompt, e.g. \"a photo of a sneaker\" (\"\" = none).")
    String prompt;

    @Option(names = {"-n", "--count"}, defaultValue = "16", description = "Images (default ${DEFAULT-VALUE}).")
    int count;

    @Option(names = "--out", required = true, description = "Output PNG grid.")
    Path out;

    @Option(names = "--eta", defaultValue = "0", description = "DDIM eta (default ${DEFAULT-VALUE}).")
    double eta;

    @picocli.CommandLine.Mixin
    SamplingOptions sampling;

    @Override
    public Integer call() {
        if (count < 1 || count > 1024) {
            throw new IllegalArgumentException("Invalid --count " + count + " (1..1024)");
        }
        try (DiffusionModel m = DiffusionModel.load(sampling.model); NDManager nd = NDManager.newBaseManager()) {
            m.encoder().tokenize(prompt); // unknown words fail here, before any work
            NDArray img = Sampler.generate(m, nd, Collections.nCopies(count, prompt),
                    new Sampler.Options(sampling.steps(50), false, eta, sampling.guidance), new NoiseSource(sampling.seed));
            int c = m.config().channels();
            int s = m.config().size();
            ImageFiles.writeGrid(out, img.toFloatArray(), count, c, s, s, (int) Math.ceil(Math.sqrt(count)));
            System.out.println("Wrote " + out + " (" + count + " images, DDIM " + sampling.steps(50) + " steps, guidance "
                    + sampling.guidance + ", seed " + sampling.seed + ")");
        }
        return 0;
    }
}
