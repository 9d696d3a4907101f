package org.lustra.eval;

import org.lustra.attack.Attack;
import org.lustra.attack.Norm;

/**
 * A test stand-in for the registry's PGD (name "pgd", ℓ∞ 0.1, no gradients): the harness runs it in place of the
 * real attack ({@code ExperimentRunner.withAttack}); subclasses say what {@link #run} hands back.
 */
abstract class StubLpAttack implements Attack {
    private final String iterations;

    StubLpAttack(String iterations) {
        this.iterations = iterations;
    }

    @Override
    public String name() {
        return "pgd";
    }

    @Override
    public Budget budget() {
        return Budget.lp(Norm.LINF, 0.1);
    }

    @Override
    public String iterations() {
        return iterations;
    }

    @Override
    public boolean blackBox() {
        return true;
    }
}
