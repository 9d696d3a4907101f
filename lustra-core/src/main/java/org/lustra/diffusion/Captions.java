package org.lustra.diffusion;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.lustra.diffusion.Masks.Occluder;

/**
 * The caption grammar the unified diffusion model is trained on (SPEC §3) and the vocabulary it induces. Class
 * templates ("a photo of a sneaker"), "clean" captions for unoccluded images ("a clean photo of a bag"), occluder
 * captions that name what covers the garment ("a sneaker with a sticker", "a bag occluded by a stain", "a piece on a
 * shirt"), and the empty prompt ~15 % of the time for classifier-free guidance.
 *
 * <p>Two grammars exist. {@link Grammar#V1} is the one {@code diffusion-unified} (v1) was trained on: three occluder
 * templates, all saying "with a patch" or "with a sticker" whatever the occluder. {@link Grammar#V2} names the
 * occluder's kind with its own words and places the word in several positions, so that the occluder words — the
 * ones DIFFender's localisation prompts lean on — are tied to what the image shows, not to a fixed sentence.
 * The vocabulary also holds "adversarial", the seed's manual localisation prompt, although no training caption uses
 * it: the model never sees adversarial patches.
 */
public final class Captions {
    /** The empty prompt's probability (classifier-free guidance needs unconditional training). */
    public static final double EMPTY = 0.15;
    /** Probability that an unoccluded image gets a "clean" caption rather than a plain class caption. */
    public static final double CLEAN = 0.3;

    /** Which caption grammar; the vocabulary of a trained model is fixed by its grammar. */
    public enum Grammar { V1, V2 }

    private static final List<String> WORDS_V1 = List.of("a", "an", "the", "photo", "picture", "image", "of", "clean",
            "with", "patch", "sticker", "adversarial", "plain", "garment");
    private static final List<String> WORDS_V2_EXTRA = List.of("piece", "block", "stain", "spot", "occluded", "by",
            "on", "covered", "partly", "it");
    private static final String[] CLASS_TEMPLATES = {"a photo of a %s", "a %s", "a picture of a %s", "an image of a %s",
        "%s", "the %s"};
    private static final String[] CLEAN_TEMPLATES = {"a clean photo of a %s", "a clean %s", "a clean image of a %s"};
    private static final String[] PATCH_TEMPLATES_V1 = {"a photo of a %s with a patch", "a %s with a patch",
        "a %s with a sticker", "an image of a %s with a patch"};
    /** %1$s = class, %2$s = occluder word. */
    private static final String[] OCCLUDED_TEMPLATES_V2 = {"a photo of a %1$s with a %2$s", "a %1$s with a %2$s",
        "a %1$s occluded by a %2$s", "a %2$s on a %1$s", "a %1$s with a %2$s on it", "an image of a %1$s with a %2$s",
        "a %1$s partly covered by a %2$s", "a %2$s"};

    private final List<String> classNames;
    private final Grammar grammar;

    /** The v1 grammar (what the shipped {@code diffusion-unified} was trained on). */
    public Captions(List<String> classNames) {
        this(classNames, Grammar.V1);
    }

    public Captions(List<String> classNames, Grammar grammar) {
        this.classNames = List.copyOf(classNames);
        this.grammar = grammar;
    }

    public Grammar grammar() {
        return grammar;
    }

    /** {@code <pad>, <sos>, <eos>}, the grammar's words, then the class names. */
    public List<String> vocabulary() {
        List<String> v = new ArrayList<>(List.of("<pad>", "<sos>", "<eos>"));
        v.addAll(WORDS_V1);
        if (grammar == Grammar.V2) {
            v.addAll(WORDS_V2_EXTRA);
        }
        for (String c : classNames) {
            if (!v.contains(c)) {
                v.add(c);
            }
        }
        return v;
    }

    /** A training caption for an image of class {@code label} with the given occluder ({@code null}: none). */
    public String sample(int label, Occluder occluder, SplittableRandom rng) {
        if (rng.nextDouble() < EMPTY) {
            return "";
        }
        String name = classNames.get(label);
        if (occluder == null) {
            String[] templates = rng.nextDouble() < CLEAN ? CLEAN_TEMPLATES : CLASS_TEMPLATES;
            return String.format(templates[rng.nextInt(templates.length)], name);
        }
        if (grammar == Grammar.V1) {
            return String.format(PATCH_TEMPLATES_V1[rng.nextInt(PATCH_TEMPLATES_V1.length)], name);
        }
        List<String> words = occluder.words();
        String word = words.get(rng.nextInt(words.size()));
        return String.format(OCCLUDED_TEMPLATES_V2[rng.nextInt(OCCLUDED_TEMPLATES_V2.length)], name, word);
    }

    /** As {@link #sample(int, Occluder, SplittableRandom)}, with a generic occluder when {@code occluded}. */
    public String sample(int label, boolean occluded, SplittableRandom rng) {
        return sample(label, occluded ? Occluder.PIECE : null, rng);
    }

    /** The canonical class prompt used for sampling: "a photo of a {class}". */
    public String classPrompt(int label) {
        return String.format(CLASS_TEMPLATES[0], classNames.get(label));
    }
}
