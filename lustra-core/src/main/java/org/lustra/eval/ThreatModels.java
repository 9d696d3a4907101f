package org.lustra.eval;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lustra.attack.Attack;
import org.lustra.defense.Identity;
import org.lustra.defense.Purifier;

/**
 * The text every result carries, in one place: a cell's threat model (who attacks what, knowing what), its budget (from
 * the {@link Attack} that runs) and its gradient route (from the {@link Route}s that run, {@link Route#label}), as the
 * manifest's {@link CellInfo}.
 */
final class ThreatModels {
    /** How {@link #threat} starts for the bare classifier, and what parts the defence from the classifier. */
    static final String UNDEFENDED = "undefended ";
    static final String ARROW = " -> ";

    private ThreatModels() {}

    /**
     * The description of {@code cell}, defended by {@code p} in front of {@code classifier}, attacked by
     * {@code attack} through {@code routes} on h×w images.
     */
    static CellInfo describe(Experiment.Cell cell, Purifier p, List<Route> routes, Attack attack, String classifier,
            int h, int w, boolean skipFooled) {
        boolean blackBox = attack.blackBox();
        String grad = routes.size() == 1 ? routes.get(0).label(p, blackBox)
                : "worst of " + routes.size() + " routes per image: " + String.join(" | ", routes.stream()
                        .map(r -> r.label(p, blackBox)).toList()) + (skipFooled ? SKIP_NOTE : "");
        if (routes.get(0).adaptive() && routes.get(0).randomized()) {
            grad += attack.randomizedNote();
        }
        return new CellInfo(cell.defense(), cell.attack().id(), cell.mode(), grad, threat(cell, p, classifier),
                attack.describe(h, w));
    }

    /** Who attacks what: the defended model and what the attacker knows of the defence. */
    static String threat(Experiment.Cell cell, Purifier p, String classifier) {
        if (p instanceof Identity) {
            return UNDEFENDED + classifier;
        }
        return p.name() + ARROW + classifier + (cell.adaptive() ? ", adaptive white-box attacker"
                : ", attacker unaware of the defence");
    }

    /**
     * For a worst-of cell, one extra cell per route ({@code <cell id>@<MODE>}): the same attack's outcome through that
     * route alone, written from the same run, so a report shows every route and their per-image worst side by side.
     * Empty for single-route cells.
     */
    static Map<String, CellInfo> routeCells(Experiment.Cell cell, Purifier p, List<Route> routes, CellInfo base,
            boolean skipFooled) {
        Map<String, CellInfo> out = new LinkedHashMap<>();
        if (routes.size() > 1) {
            for (int i = 0; i < routes.size(); i++) {
                Route r = routes.get(i);
                // with skipFooled a later route cell counts the images it skipped as fooled: its label says so
                String label = r.label(p, false) + (skipFooled && i > 0 ? ROUTE_SKIP_NOTE : "");
                out.put(routeCellId(cell, r), new CellInfo(base.defense(), base.attack(), cell.mode() + "@"
                        + r.tag(), label, base.threatModel(), base.budget()));
            }
        }
        return out;
    }

    /** Appended to a worst-of cell's gradient text when its later routes skip images already fooled on every vote. */
    static final String SKIP_NOTE = "; each route after the first attacked only the images no earlier route had "
            + "fooled on every vote (\"skipFooled\")";
    /** Appended to the gradient text of a later route cell of such a cell. */
    static final String ROUTE_SKIP_NOTE = "; attacked only the images the routes before it had not fooled on every "
            + "vote — the others carry those routes' worst (fooled on every vote; their record names its route), so "
            + "this cell is this route alone with those images counted as fooled";

    static String routeCellId(Experiment.Cell cell, Route r) {
        return cell.id() + "@" + r.tag();
    }
}
