/** The {@code lustra} command line: picocli commands over the core library; no algorithm lives here. */
package org.lustra.cli;
