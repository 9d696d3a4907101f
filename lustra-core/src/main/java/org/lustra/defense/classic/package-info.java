/** Classic input transformations (JPEG, median smoothing, bit depth): deterministic, passed by BPDA when attacked. */
package org.lustra.defense.classic;
