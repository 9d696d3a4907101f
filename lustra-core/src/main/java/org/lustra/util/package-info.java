/** Small shared helpers: user-facing errors, atomic file writes and hashing, JSON, progress lines, versions. */
package org.lustra.util;
