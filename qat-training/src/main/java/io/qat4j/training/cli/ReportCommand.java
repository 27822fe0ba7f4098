package io.qat4j.training.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qat4j.training.UserException;
import io.qat4j.training.report.RunReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code qat report RUN_DIR...}: a Markdown table of finished runs, for README and docs; with {@code --html} one
 * self-contained HTML page per run ({@link RunReport}).
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Print a Markdown table (test accuracy, epochs, img/s, wall time) of run directories.",
            "With --html, write one self-contained HTML report per run (default RUN_DIR/report.html): summary, "
                    + "learning curves, layers with their quantizers and observed ranges, learned parameters, "
                    + "fixed-point diagnostics, the test-set confusion matrix, integer engine agreement, config."})
final class ReportCommand implements Callable<Integer> {

    @Parameters(paramLabel = "RUN_DIR", arity = "1..*", description = "Run directories of 'qat train'.")
    List<Path> runs;

    @Option(names = "--html", description = "Write an HTML report instead of printing a Markdown table.")
    boolean html;

    @Option(names = "--out", paramLabel = "FILE",
            description = "With --html and one RUN_DIR: the HTML file (default: RUN_DIR/report.html).")
    Path out;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "With --html: data folder for the confusion matrix (default: the run's dataset.data_dir).")
    Path dataDir;

    @Override
    public Integer call() throws IOException {
        if (!html && (out != null || dataDir != null)) {
            throw new UserException("--out and --data-dir apply to the HTML report; add --html");
        }
        if (html) {
            if (out != null && runs.size() > 1) {
                throw new UserException("--out names one file but " + runs.size() + " run directories were given; "
                        + "leave --out away to write RUN_DIR/report.html into each");
            }
            for (Path run : runs) {
                RunReport.Written w = RunReport.write(run, out, dataDir);
                System.out.printf(Locale.ROOT, "wrote %s (%,d bytes)%s%s%n", w.file(), w.bytes(),
                        w.hasEngine() ? "; with the integer engine agreement" : "",
                        w.missingReason() == null ? "" : "; no confusion matrix: " + w.missingReason());
            }
            return 0;
        }
        ObjectMapper json = new ObjectMapper();
        StringBuilder sb = new StringBuilder(
                "| run | data | model | status | test accuracy | epochs | train img/s | wall time |\n|---|---|---|---|---|---|---|---|\n");
        for (Path run : runs) {
            Path summary = run.resolve("summary.json");
            if (!Files.isRegularFile(summary)) {
                throw new UserException(run + " has no summary.json; is it a finished run directory of 'qat train'?");
            }
            JsonNode s = json.readTree(summary.toFile());
            double wall = s.path("wall_seconds").asDouble();
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %.2f%% | %d | %.0f | %dm%02ds |%n",
                    s.path("run").asText(), s.path("dataset").asText(), s.path("model").asText(), s.path("status").asText(),
                    100 * s.path("test_accuracy").asDouble(), s.path("epochs").asInt(),
                    s.path("train_images_per_second").asDouble(), (long) wall / 60, (long) wall % 60));
        }
        System.out.print(sb);
        return 0;
    }
}
