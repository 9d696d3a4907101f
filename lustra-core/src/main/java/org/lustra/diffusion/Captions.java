package org.lustra.diffusion;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The caption grammar the unified diffusion model is trained on (SPEC §3) and the vocabulary it induces. Class
 * templates ("a photo of a sneaker"), "clean" captions for unoccluded images ("a clean photo of a bag"), "with a
 * patch" captions for images carrying a natural occluder, and the empty prompt ~15 % of the time for classifier-free
 * guidance. The vocabulary also holds "adversarial", the seed's manual localisation prompt, although no training
 * caption uses it: the model never sees adversarial patches.
 */
public final class Captions {
    /** The empty prompt's probability (classifier-free guidance needs unconditional training). */
    public static final double EMPTY = 0.15;
    /** Probability that an unoccluded image gets a "clean" caption rather than a plain class caption. */
    public static final double CLEAN = 0.3;

    private static final List<String> WORDS = List.of("a", "an", "the", "photo", "picture", "image", "of", "clean",
            "with", "patch", "sticker", "adversarial", "plain", "garment");
    private static final String[] CLASS_TEMPLATES = {"a photo of a %s", "a %s", "a picture of a %s", "an image of a %s",
        "%s", "the %s"};
    private static final String[] CLEAN_TEMPLATES = {"a clean photo of a %s", "a clean %s", "a clean image of a %s"};
    private static final String[] PATCH_TEMPLATES = {"a photo of a %s with a patch", "a %s with a patch",
        "a %s with a sticker", "an image of a %s with a patch"};

    private final List<String> classNames;

    public Captions(List<String> classNames) {
        this.classNames = List.copyOf(classNames);
    }

    /** {@code <pad>, <sos>, <eos>}, the grammar's words, then the class names. */
    public List<String> vocabulary() {
        List<String> v = new ArrayList<>(List.of("<pad>", "<sos>", "<eos>"));
        v.addAll(WORDS);
        for (String c : classNames) {
            if (!v.contains(c)) {
                v.add(c);
            }
        }
        return v;
    }

    /** A training caption for an image of class {@code label}, occluded or not. */
    public String sample(int label, boolean occluded, SplittableRandom rng) {
        if (rng.nextDouble() < EMPTY) {
            return "";
        }
        String name = classNames.get(label);
        String[] templates = occluded ? PATCH_TEMPLATES : rng.nextDouble() < CLEAN ? CLEAN_TEMPLATES : CLASS_TEMPLATES;
        return String.format(templates[rng.nextInt(templates.length)], name);
    }

    /** The canonical class prompt used for sampling: "a photo of a {class}". */
    public String classPrompt(int label) {
        return String.format(CLASS_TEMPLATES[0], classNames.get(label));
    }
}
