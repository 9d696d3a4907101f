/** DiffPure (Nie et al., ICML 2022): uniform forward noising to t*, then the reverse diffusion chain. */
package org.lustra.defense.diffpure;
