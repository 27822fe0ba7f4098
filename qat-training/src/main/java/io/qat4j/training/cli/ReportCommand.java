package io.qat4j.training.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qat4j.training.UserException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code qat report RUN_DIR...}: a Markdown table of finished runs, for README and docs. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Print a Markdown table (test accuracy, epochs, img/s, wall time) of run directories.")
final class ReportCommand implements Callable<Integer> {

    @Parameters(paramLabel = "RUN_DIR", arity = "1..*", description = "Run directories holding summary.json.")
    List<Path> runs;

    @Override
    public Integer call() throws IOException {
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
