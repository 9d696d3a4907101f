package org.lustra.cli;

import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.lustra.data.DigitsSheet;
import org.lustra.data.FashionMnist;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.model.Predictions;
import org.lustra.util.LustraHome;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "data", description = "Data set utilities.", mixinStandardHelpOptions = true,
        subcommands = {DataCommand.SubsetsCommand.class, DataCommand.ToneCommand.class})
final class DataCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "subsets", mixinStandardHelpOptions = true,
            description = {"Write the shipped subsets under data/ with a recorded seed: the validation "
                    + "split, the 8-shot set, the digits hold-out and, once models/classifier-resnet "
                    + "exists, the 512-image evaluation subset."})
    static final class SubsetsCommand implements Callable<Integer> {
        @Option(names = "--data-dir", description = "Fashion-MNIST IDX directory (default: $LUSTRA_FASHION_MNIST_DIR "
                + "or /usr/share/datasets/fashion-mnist).")
        Path dataDir;

        @Option(names = "--digits", description = "digits.png (default: $LUSTRA_DIGITS_PNG or the opencv-doc copy).")
        Path digits;

        @Option(names = "--seed", defaultValue = "" + Subsets.DEFAULT_SEED, description = "Seed (default ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--out", description = "Output directory (default: data/ of the checkout).")
        Path out;

        @Override
        public Integer call() {
            Path fmDir = FashionMnist.resolveDir(dataDir);
            ImageSet train = FashionMnist.load(fmDir, FashionMnist.Split.TRAIN);
            ImageSet test = FashionMnist.load(fmDir, FashionMnist.Split.TEST);
            Path digitsPng = DigitsSheet.resolvePath(digits);
            ImageSet digitSet = DigitsSheet.load(digitsPng);
            Path target = out != null ? out : LustraHome.data();
            boolean haveResnet = Files.isRegularFile(LustraHome.models().resolve("classifier-resnet")
                    .resolve(ModelStore.CARD));
            String command = "lustra data subsets --seed " + seed;
            Subsets.Manifest m;
            if (haveResnet) {
                try (NetClassifier resnet = ModelStore.loadClassifier("classifier-resnet");
                        NDManager nd = NDManager.newBaseManager()) {
                    m = Subsets.make(target, seed, train, test, fmDir, digitSet, digitsPng, batch -> {
                        int[] pred = Predictions.predict(resnet::logits, batch, 256, nd, null);
                        boolean[] ok = new boolean[pred.length];
                        for (int i = 0; i < ok.length; i++) {
                            ok[i] = pred[i] == batch.label(i);
                        }
                        return ok;
                    }, command, System.out::println);
                }
            } else {
                m = Subsets.make(target, seed, train, test, fmDir, digitSet, digitsPng, null, command,
                        System.out::println);
            }
            m.subsets().forEach((k, e) -> System.out.printf("%-15s %5d images  %s%n", k, e.count(), e.description()));
            System.out.println("Wrote " + target.resolve(Subsets.MANIFEST) + " (seed " + seed + ")");
            return 0;
        }
    }

    @Command(name = "tone", mixinStandardHelpOptions = true,
            description = {"Write only the tone-shifted evaluation set data/eval512-tone (eval512 with each image's "
                    + "log-intensity mean and spread moved onto a random other test image's; targets from the "
                    + "manifest seed, recorded), keeping every other subset. 'data subsets' writes it too; this "
                    + "needs only the Fashion-MNIST test split, not the digits sheet."})
    static final class ToneCommand implements Callable<Integer> {
        @Option(names = "--data-dir", description = "Fashion-MNIST IDX directory (default: $LUSTRA_FASHION_MNIST_DIR "
                + "or /usr/share/datasets/fashion-mnist).")
        Path dataDir;

        @Option(names = "--out", description = "Shipped data directory (default: data/ of the checkout).")
        Path out;

        @Override
        public Integer call() {
            ImageSet test = FashionMnist.load(FashionMnist.resolveDir(dataDir), FashionMnist.Split.TEST);
            Path target = out != null ? out : LustraHome.data();
            Subsets.Manifest m = Subsets.writeTone(target, test);
            Subsets.Entry e = m.subsets().get(Subsets.TONE);
            System.out.printf("%-15s %5d images  %s%n", Subsets.TONE, e.count(), e.description());
            System.out.println("Wrote " + target.resolve(Subsets.MANIFEST) + " (seed " + m.seed() + ")");
            return 0;
        }
    }
}
