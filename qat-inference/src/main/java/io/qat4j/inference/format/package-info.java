/**
 * The export format shared by training and the integer engine ({@code docs/export-format.md}): manifest
 * records, {@code .npy} tensors, C header, {@code $readmemh} and {@code .coe} files, reader and writer.
 */
package io.qat4j.inference.format;
