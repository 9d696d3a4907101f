package org.lustra.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.lustra.data.ImageFiles;
import org.lustra.diffusion.DiffusionModel;
import org.lustra.diffusion.NoiseSource;
import org.lustra.diffusion.Sampler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "inpaint", mixinStandardHelpOptions = true,
        description = {"Repaint the white region of a mask image with the unified diffusion model, guided by "
                + "a prompt; pixels outside the mask are kept from the input."})
final class InpaintCommand implements Callable<Integer> {
    @Option(names = "--image", required = true, description = "Input image.")
    Path image;

    @Option(names = "--mask", required = true, description = "Mask image: white (> 0.5) = regenerate.")
    Path mask;

    @Option(names = "--prompt", defaultValue = "", description = "Prompt (default: none).")
    String prompt;

    @Option(names = "--out", required = true, description = "Output PNG.")
    Path out;

    @picocli.CommandLine.Mixin
    SamplingOptions sampling;

    @Override
    public Integer call() {
        try (DiffusionModel m = DiffusionModel.load(sampling.model); NDManager nd = NDManager.newBaseManager()) {
            int c = m.config().channels();
            int s = m.config().size();
            m.encoder().tokenize(prompt);
            float[] img = ImageFiles.read(image, c, s, s, false);
            float[] mk = ImageFiles.read(mask, 1, s, s, false);
            for (int i = 0; i < mk.length; i++) {
                mk[i] = mk[i] > 0.5f ? 1f : 0f;
            }
            NDArray x = nd.create(img, new Shape(1, c, s, s));
            NDArray mm = nd.create(mk, new Shape(1, 1, s, s));
            NDArray r = Sampler.inpaint(m, nd, x, mm, List.of(prompt), Sampler.Options.ddim(sampling.steps(20), sampling.guidance),
                    new NoiseSource(sampling.seed));
            ImageFiles.write(out, r.toFloatArray(), c, s, s);
            System.out.println("Wrote " + out);
        }
        return 0;
    }
}
