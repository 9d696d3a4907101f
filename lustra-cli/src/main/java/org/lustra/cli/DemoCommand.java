package org.lustra.cli;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lustra.data.ImageSet;
import org.lustra.data.Subsets;
import org.lustra.model.ModelCard;
import org.lustra.model.ModelStore;
import org.lustra.model.NetClassifier;
import org.lustra.model.Predictions;
import picocli.CommandLine.Command;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run the main job on the shipped models and data.",
            "For now: classify the shipped evaluation subset and validation split with every shipped classifier and",
            "compare with the accuracies recorded in their model cards."})
final class DemoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        ImageSet eval = Subsets.load("eval512");
        ImageSet val = Subsets.load("validation");
        ImageSet digits = Subsets.load("digits-holdout");
        System.out.printf("Shipped data: eval512 (%d test images), validation (%d), digits-holdout (%d)%n%n",
                eval.size(), val.size(), digits.size());
        System.out.printf("%-18s %-62s %9s %10s  %s%n", "model", "architecture", "eval512", "validation",
                "card metric");
        for (String name : List.of("classifier-resnet", "classifier-vit", "classifier-cnn2", "classifier-digits")) {
            ModelCard card = ModelStore.readCard(ModelStore.resolve(name));
            try (NetClassifier c = ModelStore.loadClassifier(name)) {
                boolean isDigits = name.equals("classifier-digits");
                String a = isDigits ? "-" : pct(Predictions.accuracy(Predictions.predict(c, eval, 256, null), eval));
                ImageSet second = isDigits ? digits : val;
                double b = Predictions.accuracy(Predictions.predict(c, second, 256, null), second);
                String key = isDigits ? "holdout_accuracy" : "test_accuracy";
                Double m = card.metrics().get(key);
                System.out.printf("%-18s %-62s %9s %10s  %s%n", name, card.architecture().describe(), a,
                        pct(b) + (isDigits ? "*" : ""), m == null ? "-" : pct(m) + (isDigits ? " (hold)" : " (test)"));
            }
        }
        System.out.println("\n* classifier-digits is measured on the digits hold-out instead of the validation split.");
        System.out.println("eval512 is, by construction, 512 test images classifier-resnet gets right.");
        return 0;
    }

    private static String pct(double v) {
        return String.format(Locale.ROOT, "%.2f%%", 100 * v);
    }
}
