package io.qat4j.training.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import static io.qat4j.training.cli.CliTestSupport.DATA;
import static io.qat4j.training.cli.CliTestSupport.REPO;
import static io.qat4j.training.cli.CliTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code qat report RUN_DIR --html} on a real run: a W4A4 LeNet-5 trained for 2 epochs on a small MNIST subset,
 * exported and simulated. The page is self-contained (no script, nothing fetched), escapes the text it shows, has
 * every section with data that agree with the run's files, and renders in headless Chromium without console
 * messages.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HtmlReportRunTest {
    /** Put into the config's description: it must reach the page escaped. */
    static final String HOSTILE = "<script>alert(\"x\")</script> & <b>bold</b> 'quoted' https://example.com/x.png";

    Path tmp;
    Path runDir;
    String html;
    JsonNode summary;

    @BeforeAll
    void trainExportSimulateReport(@TempDir Path dir) throws Exception {
        tmp = dir;
        runDir = tmp.resolve("run");
        CliTestSupport.Outcome t = run("train", REPO.resolve("configs/mnist/lenet5-w4a4.yaml").toString(), "--data-dir",
                DATA.toString(), "--out", runDir.toString(), "--set", "dataset.subset=600", "--set",
                "dataset.validation=100", "--set", "dataset.test_subset=200", "--set", "training.epochs=2", "--set",
                "training.batch_size=50", "--set", "training.log_every=1000", "--set",
                "description='" + HOSTILE.replace("'", "''") + "'");
        assertEquals(0, t.exitCode(), t.err());
        CliTestSupport.Outcome e = run("export", runDir.toString(), "--calibration", "200");
        assertEquals(0, e.exitCode(), e.err());
        CliTestSupport.Outcome s = run("simulate", runDir.resolve("export").toString(), "--limit", "200");
        assertEquals(0, s.exitCode(), s.err());
        CliTestSupport.Outcome r = run("report", runDir.toString(), "--html");
        assertEquals(0, r.exitCode(), r.err());
        Path file = runDir.resolve("report.html");
        assertTrue(r.out().contains("wrote " + file) && r.out().contains("integer engine agreement"), r.out());
        html = Files.readString(file, StandardCharsets.UTF_8);
        summary = new ObjectMapper().readTree(runDir.resolve("summary.json").toFile());
    }

    @Test
    void selfContainedWithEverySectionAndInlineCharts() throws Exception {
        HtmlChecks.assertSelfContained(html);
        HtmlChecks.assertSections(html);
        // learning curves and the engine agreement bars
        assertEquals(2, HtmlChecks.charts(html).size());
        assertTrue(html.contains("alt=\"learning curves"), "chart has alternative text");
    }

    @Test
    void textIsEscaped() throws Exception {
        String config = Files.readString(runDir.resolve("config.yaml"), StandardCharsets.UTF_8);
        assertTrue(config.contains("<b>bold</b>"), config);
        assertFalse(html.contains("<b>bold</b>"));
        assertFalse(html.contains("alert(\""));
        String escaped = config.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
                .replace("'", "&#39;");
        assertTrue(html.contains("<pre class=\"config\">" + escaped + "</pre>"), "config.yaml, escaped");
        assertTrue(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    }

    @Test
    void summaryMatchesSummaryJson() {
        assertEquals("completed", HtmlChecks.summaryValue(html, "status"));
        assertEquals(String.format(Locale.ROOT, "%.2f%% on 200 test images", 100 * summary.get("test_accuracy").asDouble()),
                HtmlChecks.summaryValue(html, "test accuracy (best model)"));
        assertEquals("2 / " + summary.get("best_epoch").asInt(), HtmlChecks.summaryValue(html, "epochs / best epoch"));
        assertEquals(String.format(Locale.ROOT, "%,d", summary.get("parameters").asLong()),
                HtmlChecks.summaryValue(html, "parameters"));
        assertEquals("mnist / lenet5", HtmlChecks.summaryValue(html, "data set / model"));
        assertEquals(2, HtmlChecks.tableRows(html, "epochs").size());
    }

    @Test
    void layerTableShowsSpecsAndObservedRanges() {
        List<List<String>> rows = HtmlChecks.tableRows(html, "layers");
        assertEquals(List.of("conv1", "pool1", "pool1_act", "conv2", "pool2", "pool2_act", "fc1", "output"),
                rows.stream().map(r -> r.get(0)).toList());
        List<String> conv2 = rows.get(3);
        assertEquals("4", conv2.get(3));
        assertEquals("int(bits=4, narrow=true, axis=channel)", conv2.get(4));
        List<String> fc1 = rows.get(6);
        assertEquals("4", fc1.get(5));
        assertEquals("int(bits=4, signed=false, observer=ema)", fc1.get(6));
        // an EMA observer saw every training batch: 2 epochs of 12 batches
        assertTrue(fc1.get(7).matches("out \\[[-0-9.e]+, [0-9.e]+\\] after 24 updates"), fc1.get(7));
        assertEquals("–", rows.get(1).get(7), "a pooling layer observes nothing");
    }

    @Test
    void confusionMatrixIsTheBestModelOnTheRunsTestSet() {
        List<List<String>> rows = HtmlChecks.tableRows(html, "confusion");
        assertEquals(10, rows.size());
        long total = 0;
        long diagonal = 0;
        for (int i = 0; i < 10; i++) {
            assertEquals(12, rows.get(i).size(), "label, 10 predictions, recall");
            assertEquals(Integer.toString(i), rows.get(i).get(0));
            for (int j = 0; j < 10; j++) {
                long v = Long.parseLong(rows.get(i).get(j + 1));
                total += v;
                diagonal += i == j ? v : 0;
            }
        }
        assertEquals(200, total);
        assertEquals(summary.get("test_accuracy").asDouble(), diagonal / 200.0, 0.011,
                "the matrix's accuracy is the run's test accuracy (up to float ties)");
    }

    @Test
    void engineAgreementComesFromSimulateJson() throws Exception {
        JsonNode sim = new ObjectMapper().readTree(runDir.resolve("export/simulate.json").toFile());
        List<List<String>> rows = HtmlChecks.tableRows(html, "engine");
        JsonNode manifest = new ObjectMapper().readTree(runDir.resolve("export/manifest.json").toFile());
        assertEquals(manifest.get("layers").size(), rows.size());
        for (JsonNode l : sim.get("layers")) {
            List<String> row = rows.stream().filter(r -> r.get(0).equals(l.get("name").asText())).findFirst().orElseThrow();
            assertEquals(String.format(Locale.ROOT, "%.2f%%", 100 * l.get("identical_fraction").asDouble()), row.get(8));
            assertEquals(String.format(Locale.ROOT, "%.2f%%", 100 * l.get("within_1_lsb_fraction").asDouble()), row.get(9));
        }
        List<String> conv2 = rows.stream().filter(r -> r.get(0).equals("conv2")).findFirst().orElseThrow();
        for (JsonNode l : manifest.get("layers")) {
            if (l.get("name").asText().equals("conv2")) {
                assertEquals(l.get("accumulator_bits").asText(), conv2.get(4));
            }
        }
        assertTrue(html.contains(String.format(Locale.ROOT, "<td>top-1 agreement</td><td>%.2f%%</td>",
                100 * sim.get("top1_agreement").asDouble())), "top-1 agreement");
        assertEquals("logits", rows.get(rows.size() - 1).get(7));
    }

    @Test
    void outFileAndArgumentErrors() throws Exception {
        Path out = tmp.resolve("elsewhere/r.html");
        CliTestSupport.Outcome r = run("report", runDir.toString(), "--html", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(Files.readString(out).contains("<h2 id=\"engine\">"));
        CliTestSupport.Outcome two = run("report", runDir.toString(), runDir.toString(), "--html", "--out", out.toString());
        assertEquals(QatCli.USER_ERROR, two.exitCode());
        assertTrue(two.err().contains("--out names one file"), two.err());
        CliTestSupport.Outcome noHtml = run("report", runDir.toString(), "--out", out.toString());
        assertEquals(QatCli.USER_ERROR, noHtml.exitCode());
        assertTrue(noHtml.err().contains("add --html"), noHtml.err());
        CliTestSupport.Outcome notARun = run("report", tmp.toString(), "--html");
        assertEquals(QatCli.USER_ERROR, notARun.exitCode());
        assertTrue(notARun.err().contains("no config.yaml"), notARun.err());
        CliTestSupport.Outcome markdown = run("report", runDir.toString());
        assertEquals(0, markdown.exitCode(), markdown.err());
        assertTrue(markdown.out().startsWith("| run | data | model |"), markdown.out());
    }

    @Test
    void rendersInChromiumWithoutConsoleMessages() throws Exception {
        Path chromium = Chromium.executable().orElse(null);
        if (chromium == null) {
            System.err.println("SKIPPED: " + Chromium.missingMessage());
        }
        Assumptions.assumeTrue(chromium != null, Chromium::missingMessage);
        Chromium.Shot shot = Chromium.screenshot(chromium, runDir.resolve("report.html"), tmp.resolve("shot.png"));
        assertEquals(Chromium.WIDTH, shot.width(), shot.toString());
        assertEquals(Chromium.HEIGHT, shot.height(), shot.toString());
        assertTrue(shot.consoleMessages().isEmpty(), "console: " + shot.consoleMessages());
        assertTrue(shot.drawnFraction() > 0.05, "mostly blank: " + shot);
        assertTrue(shot.colorFraction() > 0.005, "no charts or shading visible: " + shot);
    }
}
