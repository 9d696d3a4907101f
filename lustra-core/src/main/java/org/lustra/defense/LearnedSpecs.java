package org.lustra.defense;

import org.lustra.defense.disco.Disco;
import org.lustra.defense.disco.DiscoNetwork;
import org.lustra.defense.learned.LearnedModels;
import org.lustra.defense.maep.Maep;
import org.lustra.defense.maep.MaepNetwork;
import org.lustra.util.LustraException;

/**
 * Parsing and building of the trained-network specs {@code maep[:NAME]} and {@code disco[:NAME]}: NAME is a model under
 * models/ or a model directory, by default {@value Maep#DEFAULT_MODEL} and {@value Disco#DEFAULT_MODEL}. Parsing checks
 * that the model has been trained (as {@code diffender:tuned} checks its prompts) and loads nothing.
 */
final class LearnedSpecs {
    static final String FORM = "maep[:NAME], disco[:NAME] (trained purifier models, default " + Maep.DEFAULT_MODEL
            + " / " + Disco.DEFAULT_MODEL + ")";

    private LearnedSpecs() {}

    static boolean matches(String spec) {
        return kindOf(spec) != null;
    }

    private static String kindOf(String spec) {
        for (String kind : new String[] {MaepNetwork.KIND, DiscoNetwork.KIND}) {
            if (spec.equals(kind) || spec.startsWith(kind + ":")) {
                return kind;
            }
        }
        return null;
    }

    static DefenseSpec.LearnedSpec parse(String spec) {
        String kind = kindOf(spec);
        String rest = spec.substring(kind.length());
        if (rest.equals(":") || rest.indexOf(':', 1) >= 0) {
            throw new LustraException("Invalid defence '" + spec + "'; use " + kind + " or " + kind + ":NAME with NAME "
                    + "a model under models/ (e.g. " + kind + ":" + defaultModel(kind) + ").");
        }
        String model = rest.isEmpty() ? defaultModel(kind) : rest.substring(1);
        LearnedModels.requireTrained(model, kind);
        return new DefenseSpec.LearnedSpec(spec, kind, model);
    }

    static Purifier build(DefenseSpec.LearnedSpec spec) {
        return spec.kind().equals(MaepNetwork.KIND) ? Maep.load(spec.text(), spec.model())
                : Disco.load(spec.text(), spec.model());
    }

    private static String defaultModel(String kind) {
        return kind.equals(MaepNetwork.KIND) ? Maep.DEFAULT_MODEL : Disco.DEFAULT_MODEL;
    }
}
