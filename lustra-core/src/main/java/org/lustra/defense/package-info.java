/**
 * Defences: the {@link org.lustra.defense.Purifier} interface and gradient modes; one sub-package per method
 * (diffpure, and later hetero, diffender, maep, classic).
 */
package org.lustra.defense;
