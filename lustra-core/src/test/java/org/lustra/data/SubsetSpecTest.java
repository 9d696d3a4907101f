package org.lustra.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
    void badSpecsNameTheAcceptedForms() {
        for (String bad : new String[] {"eval512+fog:1", "eval512+contrast:6", "eval512+contrast", "eval512+", "",
                "../x"}) {
            LustraException e = assertThrows(LustraException.class, () -> SubsetSpec.parse(bad), bad);
            assertTrue(e.getMessage().contains("NAME+brightness:S"), e.getMessage());
        }
    }
}
