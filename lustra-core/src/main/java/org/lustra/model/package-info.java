/**
 * Models: the {@link org.lustra.model.Classifier} interface, architectures, model cards, the hash-checked model
 * store, and classifier training with exact resume.
 */
package org.lustra.model;
