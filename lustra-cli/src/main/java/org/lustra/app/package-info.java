/**
 * The jobs behind {@code lustra classify}, {@code lustra purify} and {@code lustra serve}, in one place: a
 * {@link org.lustra.app.Workbench} loads a classifier and the defences once and turns pixels into predictions,
 * purified images, masks and anomaly maps. It knows nothing of picocli or HTTP; the commands and the service are thin
 * shells around it, so a file purified on the command line and an upload purified by the service take the same path.
 */
package org.lustra.app;
