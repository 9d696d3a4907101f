package org.lustra.defense;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.lustra.util.Json;
import org.lustra.util.LustraException;
import org.lustra.util.LustraHome;

/**
 * The thresholds {@code lustra calibrate} chose on data/validation, as the defaults of bare specs: {@code dw},
 * {@code fnc}, {@code sac[:NAME]} and {@code jedi[:NAME|:morph]} without options mean the calibrated spec of the
 * protected classifier when {@code docs/results/calibration/KEY.json} holds one whose rule was met, else the
 * placeholders. A spec with any option is taken as written. The file records the measurement that chose the spec, so
 * the default is never a number without its evidence; the built purifier's name shows the values in use.
 */
public final class Calibrations {
    /** Where calibrations live, relative to the Lustra home. */
    public static final String DIR = "docs/results/calibration";

    private Calibrations() {}

    public static Path dir() {
        return LustraHome.root().resolve(DIR);
    }

    /**
     * The calibration key of a bare spec for {@code classifier} — {@code dw-C}, {@code fnc-C}, {@code sac-MODEL-C},
     * {@code jedi-MODEL-C} or {@code jedi-morph-C} — or empty for a spec with options (or a defence without
     * calibration).
     */
    public static Optional<String> key(DefenseSpec spec, String classifier) {
        String kind;
        if (spec instanceof DefenseSpec.DwSpec s && s.text().equals("dw")) {
            kind = "dw";
        } else if (spec instanceof DefenseSpec.FncSpec s && s.text().equals("fnc")) {
            kind = "fnc";
        } else if (spec instanceof PatchRemovalSpecs.SacSpec s
                && (s.text().equals("sac") || s.text().equals("sac:" + s.model()))) {
            kind = "sac-" + Path.of(s.model()).getFileName();
        } else if (spec instanceof PatchRemovalSpecs.JediSpec s && (s.text().equals("jedi")
                || s.text().equals("jedi:morph") || (s.model() != null && s.text().equals("jedi:" + s.model())))) {
            kind = "jedi-" + (s.model() == null ? "morph" : Path.of(s.model()).getFileName().toString());
        } else {
            return Optional.empty();
        }
        return Optional.of(kind + "-" + classifier);
    }

    /** The calibrated spec text under {@code key}, if a calibration met its rule. */
    public static Optional<String> chosen(String key) {
        Path file = dir().resolve(key + ".json");
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        JsonObject o = Json.read(file, JsonObject.class);
        if (!o.has("ruleMet") || !o.get("ruleMet").getAsBoolean() || !o.has("chosenSpec")) {
            return Optional.empty();
        }
        return Optional.of(o.get("chosenSpec").getAsString());
    }

    /** {@code spec}, or the calibrated spec it stands for when it is bare and calibrated for {@code classifier}. */
    public static DefenseSpec resolve(DefenseSpec spec, String classifier) {
        Optional<String> chosen = key(spec, classifier).flatMap(Calibrations::chosen);
        if (chosen.isEmpty()) {
            return spec;
        }
        DefenseSpec calibrated = DefenseSpec.parse(chosen.get());
        if (key(calibrated, classifier).isPresent() || !calibrated.getClass().equals(spec.getClass())) {
            throw new LustraException("The calibration of '" + spec.text() + "' in " + dir() + " names '"
                    + chosen.get() + "', not an explicit spec of the same defence; rerun 'lustra calibrate'.");
        }
        return calibrated;
    }
}
