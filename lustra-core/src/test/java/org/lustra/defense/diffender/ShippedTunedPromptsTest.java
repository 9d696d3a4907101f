package org.lustra.defense.diffender;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.lustra.defense.DefenseSpec;
import org.lustra.defense.DiffenderSpec;
import org.lustra.diffusion.DiffusionModel;

/** The shipped tuned prompts ({@code models/prompts-diffender}) load through the spec users write. */
class ShippedTunedPromptsTest {
    @Test
    void givenTheShippedPrompts_whenTheTunedSpecIsBuilt_thenBothPromptsAreLearnedFiniteAndDistinct() {
        DiffenderSpec spec = DefenseSpec.parse("diffender:tuned:abar0.7").asDiffender().orElseThrow();
        assertTrue(spec.tunedPrompts());
        try (DiffusionModel model = DiffusionModel.load(DiffusionModel.DEFAULT)) {
            Diffender.Options o = spec.options(model);
            assertEquals(0.7, o.localization().alphaBar(), 1e-9, "the ᾱ the prompts were tuned at");
            float[] l = o.promptL().embeddings();
            float[] r = o.promptR().embeddings();
            assertEquals(l.length, r.length);
            assertEquals(model.config().contextLength() * model.encoder().dim(), l.length, "one vector per context slot");
            for (float v : l) {
                assertTrue(Float.isFinite(v));
            }
            for (float v : r) {
                assertTrue(Float.isFinite(v));
            }
            assertFalse(Arrays.equals(l, r), "prompt_L and prompt_R were tuned apart");
        }
    }
}
