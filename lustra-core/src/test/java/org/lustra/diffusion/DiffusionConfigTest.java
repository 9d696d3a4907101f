package org.lustra.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lustra.model.ModelCard;
import org.lustra.util.Json;

/** The diffusion configuration travels in a model card as plain JSON fields; the card format must not change. */
class DiffusionConfigTest {
    private static final DiffusionConfig CONFIG = DiffusionConfig.fashionMnist(List.of("", "a", "photo", "shirt"));

    private static ModelCard cardWith(DiffusionConfig c) {
        return new ModelCard("diffusion-test", "test", null, 0, List.of(), "none", "none", "test", 0, null, 0, null,
                null, null, null, null, null, c.asCardFields());
    }

    @Test
    void givenAConfig_whenTurnedIntoCardFields_thenTheyWriteTheSameJsonAsTheRecord() {
        assertEquals(Json.GSON.toJson(CONFIG), Json.GSON.toJson(CONFIG.asCardFields()));
    }

    @Test
    void givenACardWithAConfig_whenWrittenAndReadBack_thenTheSameConfigComesOut() {
        ModelCard back = Json.GSON.fromJson(Json.GSON.toJson(cardWith(CONFIG)), ModelCard.class);

        assertNotNull(back.diffusion());
        DiffusionConfig read = DiffusionConfig.fromCardFields(back.diffusion());
        assertArrayEquals(CONFIG.widths(), read.widths());
        assertEquals(CONFIG.vocabulary(), read.vocabulary());
        assertEquals(CONFIG.betaStart(), read.betaStart());
        assertEquals(Json.GSON.toJson(CONFIG), Json.GSON.toJson(read));
    }

    @Test
    void givenACardReadBack_whenWrittenAgain_thenItsJsonIsUnchanged() {
        String once = Json.GSON.toJson(cardWith(CONFIG));

        String twice = Json.GSON.toJson(Json.GSON.fromJson(once, ModelCard.class));

        assertEquals(once, twice);
    }
}
