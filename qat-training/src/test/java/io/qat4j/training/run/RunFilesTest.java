package io.qat4j.training.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunFilesTest {
    private static final EpochMetrics ROW1 = new EpochMetrics(1, 1e-3, 0.5, 0.9, 0.45, 0.91, 0.44, 0.92, 400, 100, 110);
    private static final EpochMetrics ROW2 = new EpochMetrics(2, 7e-4, 0.2, 0.95, Double.NaN, Double.NaN, 0.3, 0.97, 410, 98, 105);

    @Test
    void runStateRoundTripsIncludingNaN(@TempDir Path dir) {
        RunState s = new RunState();
        s.epochsCompleted = 2;
        s.checkpointModel = RunDirectory.checkpointName(2);
        s.bestEpoch = 1;
        s.bestValidationAccuracy = 0.91;
        s.epochsWithoutImprovement = 1;
        s.trainSeconds = 198;
        s.trainImages = 110_000;
        s.wallSeconds = 215;
        s.rows.addAll(List.of(ROW1, ROW2));
        s.save(dir.resolve("checkpoint.json"));
        RunState back = RunState.load(dir.resolve("checkpoint.json"));
        assertEquals("checkpoints/epoch-0002.zip", back.checkpointModel);
        assertEquals(List.of(ROW1, ROW2).toString(), back.rows.toString());
        assertEquals(110_000, back.trainImages);
        assertEquals(0.91, back.bestValidationAccuracy);
        assertEquals(1, back.epochsWithoutImprovement);
    }

    @Test
    void metricsFilesHoldOneRowPerEpoch(@TempDir Path root) throws IOException {
        RunDirectory dir = new RunDirectory(root);
        MetricsFiles.write(dir, "demo", List.of(ROW1, ROW2));
        List<String> csv = Files.readAllLines(dir.metricsCsv());
        assertEquals(String.join(",", EpochMetrics.COLUMNS), csv.get(0));
        assertEquals("1,0.00100000,0.500000,0.900000,0.450000,0.910000,0.440000,0.920000,400.000,100.000,110.000", csv.get(1));
        assertTrue(csv.get(2).startsWith("2,0.000700000,0.200000,0.950000,,,0.300000,0.970000,"), csv.get(2));
        JsonNode json = new ObjectMapper().readTree(dir.metricsJson().toFile());
        assertEquals(2, json.get("epochs").size());
        assertEquals(0.97, json.get("epochs").get(1).get("test_accuracy").asDouble());
        assertTrue(json.get("epochs").get(1).get("validation_accuracy").isNull());
        BufferedImage png = ImageIO.read(dir.plot().toFile());
        assertEquals(1280, png.getWidth());
        assertEquals(420, png.getHeight());
    }

    @Test
    void learnedQuantizerParametersAreColumnsAndAPlot(@TempDir Path root) throws IOException {
        EpochMetrics r1 = new EpochMetrics(1, 1e-3, 0.5, 0.9, 0.45, 0.91, 0.44, 0.92, 400, 100, 110,
                java.util.Map.of("conv2.wstep", 0.05));
        java.util.Map<String, Double> l2 = new java.util.LinkedHashMap<>();
        l2.put("conv2.wstep", 0.04);
        l2.put("pool2_act.alpha.mean", 3.5);
        l2.put("fc1.alpha", 2.5);
        EpochMetrics r2 = new EpochMetrics(2, 7e-4, 0.2, 0.95, 0.3, 0.96, 0.3, 0.97, 410, 98, 105, l2);
        RunDirectory dir = new RunDirectory(root);
        MetricsFiles.write(dir, "demo", List.of(r1, r2));
        List<String> csv = Files.readAllLines(dir.metricsCsv());
        assertEquals(String.join(",", EpochMetrics.COLUMNS) + ",conv2.wstep,pool2_act.alpha.mean,fc1.alpha", csv.get(0));
        assertTrue(csv.get(1).endsWith(",0.0500000,,"), csv.get(1));
        assertTrue(csv.get(2).endsWith(",0.0400000,3.50000,2.50000"), csv.get(2));
        JsonNode json = new ObjectMapper().readTree(dir.metricsJson().toFile());
        assertEquals("fc1.alpha", json.get("columns").get(EpochMetrics.COLUMNS.size() + 2).asText());
        assertEquals(2.5, json.get("epochs").get(1).get("fc1.alpha").asDouble());
        BufferedImage png = ImageIO.read(dir.learnedPlot().toFile());
        assertEquals(1280, png.getWidth(), "two charts side by side: wstep and alpha");
        assertEquals("wstep", LearnedParameters.key("conv2.wstep"));
        assertEquals("alpha", LearnedParameters.key("pool2_act.alpha.mean"));
        assertEquals("pool2_act", LearnedParameters.layer("pool2_act.alpha.mean"));

        RunState s = new RunState();
        s.rows.addAll(List.of(r1, r2));
        s.save(root.resolve("checkpoint.json"));
        assertEquals(List.of(r1, r2), RunState.load(root.resolve("checkpoint.json")).rows);

        RunDirectory plain = new RunDirectory(root.resolve("plain"));
        Files.createDirectories(plain.root());
        MetricsFiles.write(plain, "demo", List.of(ROW1));
        assertFalse(Files.exists(plain.learnedPlot()), "no learned parameters, no plot");
    }

    @Test
    void atomicWriteLeavesTheOldFileWhenTheWriterFails(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("state.json");
        AtomicFiles.writeString(f, "old");
        assertThrows(RuntimeException.class, () -> AtomicFiles.write(f, tmp -> {
            Files.writeString(tmp, "half");
            throw new IOException("disk full");
        }));
        assertEquals("old", Files.readString(f));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(f), files.toList(), "no temporary file is left behind");
        }
        AtomicFiles.writeString(f, "new");
        assertEquals("new", Files.readString(f));
        assertFalse(Files.exists(dir.resolve("state.json.tmp")));
    }
}
