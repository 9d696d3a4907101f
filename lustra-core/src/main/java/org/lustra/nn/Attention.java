package org.lustra.nn;

import ai.djl.ndarray.NDArray;

/** Scaled dot-product multi-head attention (Vaswani et al., 2017) on token-major arrays. */
public final class Attention {
    private Attention() {}

    /**
     * softmax(Q Kᵀ / √d_h) V per head. q: (N, Lq, C); k, v: (N, Lk, C); C splits into {@code heads} heads.
     * Returns (N, Lq, C) in q's manager.
     */
    public static NDArray multiHead(NDArray q, NDArray k, NDArray v, int heads) {
        long n = q.getShape().get(0);
        long lq = q.getShape().get(1);
        long lk = k.getShape().get(1);
        long c = q.getShape().get(2);
        long dh = c / heads;
        NDArray qh = q.reshape(n, lq, heads, dh).transpose(0, 2, 1, 3);
        NDArray kh = k.reshape(n, lk, heads, dh).transpose(0, 2, 3, 1);
        NDArray vh = v.reshape(n, lk, heads, dh).transpose(0, 2, 1, 3);
        NDArray att = Scalars.mul(qh.matMul(kh), 1.0 / Math.sqrt(dh)).softmax(-1);
        return att.matMul(vh).transpose(0, 2, 1, 3).reshape(n, lq, c);
    }
}
