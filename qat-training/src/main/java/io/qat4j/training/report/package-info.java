/**
 * {@code qat report RUN_DIR --html}: one self-contained HTML page per training run. {@link
 * io.qat4j.training.report.RunReport} is the entry point; the package-private classes read the run directory
 * ({@code RunData}), build the per-layer table from the trained network ({@code LayerTable}), the test-set confusion
 * matrix ({@code Confusion}) and the integer-engine agreement of an exported, simulated run ({@code EngineSection}),
 * draw the charts with XChart as inline PNG ({@code Charts}) and assemble the page with escaped text ({@code Html},
 * {@code HtmlReport}).
 */
package io.qat4j.training.report;
