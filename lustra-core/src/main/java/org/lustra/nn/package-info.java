/** Neural-network building blocks and the classifier networks (ResNet, ViT, VGG-style CNN). */
package org.lustra.nn;
