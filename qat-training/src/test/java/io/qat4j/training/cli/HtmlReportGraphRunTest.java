package io.qat4j.training.cli;

import io.qat4j.training.model.Network;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.qat4j.training.cli.CliTestSupport.DATA;
import static io.qat4j.training.cli.CliTestSupport.REPO;
import static io.qat4j.training.cli.CliTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code qat report --html} on a ComputationGraph run (ResNet-8, one epoch on a Fashion-MNIST subset, not
 * exported): the layers in the graph's topological order, the confusion matrix with Fashion-MNIST's class names,
 * a note instead of the engine section, and a clean rendering in headless Chromium.
 */
class HtmlReportGraphRunTest {

    @Test
    void residualNetworkReport(@TempDir Path tmp) throws Exception {
        Path runDir = tmp.resolve("run");
        CliTestSupport.Outcome t = run("train", REPO.resolve("configs/fashion-mnist/resnet20-fp32.yaml").toString(),
                "--data-dir", DATA.toString(), "--out", runDir.toString(), "--set", "model.options.depth=8", "--set",
                "dataset.subset=200", "--set", "dataset.validation=50", "--set", "dataset.test_subset=100", "--set",
                "training.epochs=1", "--set", "training.batch_size=50", "--set", "training.log_every=1000", "--set",
                "training.optimizer.lr=0.05");
        assertEquals(0, t.exitCode(), t.err());
        Path out = tmp.resolve("graph-report.html");
        CliTestSupport.Outcome r = run("report", runDir.toString(), "--html", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        String html = Files.readString(out, StandardCharsets.UTF_8);

        HtmlChecks.assertSelfContained(html);
        HtmlChecks.assertSections(html);
        assertEquals(1, HtmlChecks.charts(html).size(), "learning curves only");

        Network net = Network.restore(runDir.resolve("best.zip"));
        assertTrue(net.isGraph());
        List<String> names = net.layers().stream().map(l -> l.conf().getLayer().getLayerName()).toList();
        List<List<String>> rows = HtmlChecks.tableRows(html, "layers");
        assertEquals(names, rows.stream().map(row -> row.get(0)).toList(), "layers in topological order");
        assertTrue(rows.stream().anyMatch(row -> row.get(1).startsWith("conv")), "conv layers");
        assertTrue(rows.get(rows.size() - 1).get(1).startsWith("output"), "the output layer last");

        List<List<String>> confusion = HtmlChecks.tableRows(html, "confusion");
        assertEquals("T-shirt/top", confusion.get(0).get(0));
        assertEquals("Ankle boot", confusion.get(9).get(0));
        long total = confusion.stream().mapToLong(row -> row.subList(1, 11).stream().mapToLong(Long::parseLong).sum()).sum();
        assertEquals(100, total);
        assertTrue(html.contains("Not exported: run &#39;qat export "), "note instead of the engine agreement");

        Path chromium = Chromium.executable().orElse(null);
        if (chromium == null) {
            System.err.println("SKIPPED (rendering): " + Chromium.missingMessage());
        }
        Assumptions.assumeTrue(chromium != null, Chromium::missingMessage);
        Chromium.Shot shot = Chromium.screenshot(chromium, out, tmp.resolve("shot.png"));
        assertEquals(Chromium.WIDTH, shot.width());
        assertEquals(Chromium.HEIGHT, shot.height());
        assertTrue(shot.consoleMessages().isEmpty(), "console: " + shot.consoleMessages());
        assertTrue(shot.drawnFraction() > 0.05 && shot.colorFraction() > 0.005, shot.toString());
    }
}
