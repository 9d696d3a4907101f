package org.lustra.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.lustra.util.LustraException;

class SubsetSpecTest {
    @Test
    void plainNameHasNoCorruption() {
        SubsetSpec s = SubsetSpec.parse("eval512-tone");
        assertEquals("eval512-tone", s.base());
        assertNull(s.corruption());
        assertEquals("eval512-tone", s.text());
    }

    @Test
    void corruptionAndSeverityAreParsed() {
        SubsetSpec s = SubsetSpec.parse("eval512+contrast:4");
        assertEquals("eval512", s.base());
        assertEquals(Corruption.CONTRAST, s.corruption());
        assertEquals(4, s.severity());
        assertEquals("eval512+contrast:4", s.text());
    }

    @Test
    void givenAShuffledName_whenParsed_thenTheOrderIsKeptApartFromTheCorruption() {
        SubsetSpec plain = SubsetSpec.parse("digits-holdout~shuffled");
        SubsetSpec both = SubsetSpec.parse("digits-holdout~shuffled+contrast:2");

        assertEquals("digits-holdout", plain.base());
        assertTrue(plain.shuffled());
        assertNull(plain.corruption());
        assertEquals("digits-holdout~shuffled", plain.text());
        assertEquals("digits-holdout", both.base());
        assertTrue(both.shuffled());
        assertEquals(Corruption.CONTRAST, both.corruption());
        assertEquals("digits-holdout~shuffled+contrast:2", both.text());
        assertFalse(SubsetSpec.parse("eval512+contrast:2").shuffled());
    }

    @Test
    void badSpecsNameTheAcceptedForms() {
        for (String bad : new String[] {"eval512+fog:1", "eval512+contrast:6", "eval512+contrast", "eval512+", "",
                "../x", "eval512~sorted", "eval512~shuffled~shuffled", "~shuffled"}) {
            LustraException e = assertThrows(LustraException.class, () -> SubsetSpec.parse(bad), bad);
            assertTrue(e.getMessage().contains("NAME+brightness:S"), e.getMessage());
        }
    }
}
