package org.lustra.data;

import org.lustra.util.LustraException;

/**
 * Which images an evaluation runs on: a shipped subset ({@code eval512}, {@code eval512-tone}, {@code digits-holdout},
 * …), optionally in a seeded random order ({@code digits-holdout~shuffled}) and with a CIFAR-10-C corruption applied on
 * load ({@code eval512+brightness:3}, {@code eval512+contrast:5}). Corruptions and the order are deterministic, so they
 * are computed rather than shipped; the tone-shifted set draws random target images from the full test split and is
 * shipped ({@link Subsets#TONE}).
 *
 * <p>Why an order: evaluations take a subset's first N images, and {@code digits-holdout} is stored in the digits
 * sheet's order, sorted by class (its first 128 images are 118 zeros and 10 ones).
 *
 * @param base the shipped subset's name
 * @param shuffled whether the images come in the seeded random order of {@link Subsets#shuffled}
 * @param corruption the corruption applied on load, or null
 * @param severity its CIFAR-10-C severity 1..5 (0 without a corruption)
 */
public record SubsetSpec(String base, boolean shuffled, Corruption corruption, int severity) {
    public static final String FORM = "NAME, NAME~shuffled, NAME+brightness:S or NAME+contrast:S (NAME a subset under "
            + "data/, S a CIFAR-10-C severity 1-5), e.g. eval512, eval512-tone, eval512+contrast:3, "
            + "digits-holdout~shuffled";
    static final String SHUFFLED = "~shuffled";

    public SubsetSpec {
        if (base == null || !base.matches("[A-Za-z0-9._-]+")) {
            throw new LustraException("Invalid subset '" + base + "'; use " + FORM);
        }
        if (corruption != null) {
            try {
                corruption.level(severity);
            } catch (IllegalArgumentException e) {
                throw new LustraException(e.getMessage() + "; use " + FORM);
            }
        } else if (severity != 0) {
            throw new LustraException("A severity (" + severity + ") needs a corruption; use " + FORM);
        }
    }

    /** Parses {@code NAME[+KIND:S]}; a bad spec is one sentence naming the accepted forms. */
    public static SubsetSpec parse(String text) {
        if (text == null || text.isBlank()) {
            throw new LustraException("No subset given; use " + FORM);
        }
        int plus = text.indexOf('+');
        String name = plus < 0 ? text : text.substring(0, plus);
        boolean shuffled = name.endsWith(SHUFFLED);
        String base = shuffled ? name.substring(0, name.length() - SHUFFLED.length()) : name;
        if (plus < 0) {
            return new SubsetSpec(base, shuffled, null, 0);
        }
        String[] t = text.substring(plus + 1).split(":", -1);
        if (t.length != 2 || !t[1].matches("[1-9]")) {
            throw new LustraException("Invalid subset '" + text + "'; use " + FORM);
        }
        Corruption c;
        try {
            c = Corruption.of(t[0]);
        } catch (IllegalArgumentException e) {
            throw new LustraException(e.getMessage() + " in subset '" + text + "'; use " + FORM);
        }
        return new SubsetSpec(base, shuffled, c, Integer.parseInt(t[1]));
    }

    /** The text form: {@code eval512}, {@code digits-holdout~shuffled}, {@code eval512+brightness:3}. */
    public String text() {
        String name = shuffled ? base + SHUFFLED : base;
        return corruption == null ? name : name + "+" + corruption.key() + ":" + severity;
    }
}
