package io.qat4j.training.report;

import io.qat4j.training.UserException;
import io.qat4j.training.config.ConfigException;
import io.qat4j.training.data.DataException;
import io.qat4j.training.model.Network;
import io.qat4j.training.run.AtomicFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code qat report RUN_DIR --html}: writes one self-contained HTML page about a run (see {@link HtmlReport} for
 * what it shows). Reads the run directory, restores the best model (else the last) of either network kind to list
 * its layers and observer state, evaluates it on the run's test set for the confusion matrix, and writes the page
 * atomically.
 *
 * <p>Example: {@code RunReport.write(Path.of("runs/lenet5-w4a4-20260101-120000"), null, null)} writes
 * {@code runs/lenet5-w4a4-20260101-120000/report.html}.
 */
public final class RunReport {
    /** The file name of the report in the run directory. */
    public static final String FILE_NAME = "report.html";

    private static final Logger LOG = LoggerFactory.getLogger(RunReport.class);

    private RunReport() {
    }

    /**
     * What was written.
     *
     * @param file          the HTML file
     * @param bytes         its size
     * @param missingReason why the page has no confusion matrix, or null when it has one
     * @param hasEngine     whether the page shows the integer engine agreement (the export was simulated)
     */
    public record Written(Path file, long bytes, String missingReason, boolean hasEngine) {
    }

    /**
     * Writes the report of a run.
     *
     * @param runDir  the run directory of {@code qat train}
     * @param out     the HTML file; null for {@code RUN_DIR/report.html}
     * @param dataDir the data folder for the confusion matrix; null for the run's {@code dataset.data_dir}
     * @throws UserException when {@code runDir} is no run directory or a file cannot be read or written
     */
    public static Written write(Path runDir, Path out, Path dataDir) {
        RunData data = RunData.read(runDir);
        String[] notes = new String[2];
        List<LayerTable.Row> layers = null;
        Confusion confusion = null;
        Path model = data.model();
        if (model == null) {
            notes[0] = "The run has no best.zip or last.zip yet (no epoch has finished), so there are no layers to show.";
            notes[1] = notes[0];
        } else {
            Network net = Network.restore(model);
            layers = LayerTable.rows(net, data.epochs(), data.fixedPoint());
            try {
                confusion = Confusion.compute(data.dir().config(), dataDir, model, net);
            } catch (UserException | DataException | ConfigException e) {
                // The page is still worth having without it (e.g. the data are on another machine).
                notes[1] = "Not computed: the test data could not be loaded (" + e.getMessage() + "). Give the data "
                        + "folder with --data-dir.";
                LOG.warn("confusion matrix not computed: {}", e.getMessage());
            }
        }
        String html = HtmlReport.render(data, layers, confusion, notes);
        Path target = out == null ? runDir.resolve(FILE_NAME) : out;
        try {
            AtomicFiles.writeString(target, html);
        } catch (UncheckedIOException e) {
            throw new UserException("cannot write the report: " + e.getMessage(), e);
        }
        return new Written(target, html.getBytes(StandardCharsets.UTF_8).length, confusion == null ? notes[1] : null,
                data.simulate() != null);
    }
}
